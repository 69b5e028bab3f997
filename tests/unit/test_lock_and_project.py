"""The project lock and the project name rule."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from podspec.errors import LockTimeout, PodspecError
from podspec.run import lock, project
from podspec.run.origin import for_repository, of_paths


def test_second_holder_waits_then_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "lock_dir", lambda: tmp_path)
    waited = []
    with lock.project_lock("unix:///x.sock", "demo", timeout=1):
        began = time.monotonic()
        with pytest.raises(LockTimeout) as caught:
            with lock.project_lock("unix:///x.sock", "demo", timeout=0.3, on_wait=lambda: waited.append(1)):
                pass
        assert time.monotonic() - began >= 0.3
    assert waited == [1]
    assert caught.value.message.startswith("project 'demo' is being changed by podspec pid ")
    assert caught.value.message.endswith("gave up after 0.3s")
    assert "--lock-timeout" in caught.value.hint


def test_lock_is_taken_once_released(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "lock_dir", lambda: tmp_path)
    order = []
    held, release = threading.Event(), threading.Event()

    def first():
        with lock.project_lock("u", "demo", timeout=5):
            order.append("first in")
            held.set()
            release.wait(5)  # until the second has found the lock held (or the test gave up)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    try:
        with lock.project_lock("u", "demo", timeout=5, on_wait=release.set):
            order.append("second in")
    finally:
        release.set()
        thread.join()
    assert order == ["first in", "first out", "second in"]


def test_other_projects_do_not_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "lock_dir", lambda: tmp_path)
    with lock.project_lock("u", "one", timeout=1), lock.project_lock("u", "two", timeout=0.1):
        pass


def test_project_name_rule(tmp_path):
    (tmp_path / "My Site" / "pods").mkdir(parents=True)
    manifest = tmp_path / "My Site" / "pods" / "web.yaml"
    manifest.write_text("")
    assert project.resolve("flag", {"PODSPEC_PROJECT": "env"}, [str(manifest)], tmp_path) == project.ProjectName("flag")
    with pytest.raises(PodspecError, match=r"invalid project name 'Bad Name!' \(from --project\)"):
        project.resolve("Bad Name!", {}, [str(manifest)], tmp_path)
    assert project.resolve(None, {"PODSPEC_PROJECT": "env"}, [str(manifest)], tmp_path).name == "env"
    # The default: readable (the directory, normalized as compose does) and 6 digits of the source.
    pods = project.resolve(None, {}, [str(manifest)], tmp_path, "path:h:/x")
    assert re.fullmatch(r"pods-[0-9a-f]{6}", pods.name) and pods.former == "pods"
    site = project.resolve(None, {}, [str(tmp_path / "My Site")], tmp_path, "path:h:/x")
    assert re.fullmatch(r"mysite-[0-9a-f]{6}", site.name) and site.former == "mysite"
    assert project.resolve(None, {}, ["-"], tmp_path / "My Site", "path:h:/x") == site
    assert project.resolve(None, {}, [str(manifest)], tmp_path, "path:h:/y").name != pods.name  # another source
    with pytest.raises(PodspecError, match="cannot make a project name"):
        project.resolve(None, {}, [], Path("/"))


def test_default_project_is_unique_to_the_repository_and_folder_and_the_same_for_every_clone(tmp_path):
    """Two repositories that keep their files in manifests/ are two projects; so are two manifests/
    folders of one repository; a clone elsewhere (a CI runner's), a file of the folder and the agent
    following the repository with --path manifests are one."""
    def repo(where, url):
        (where / ".git").mkdir(parents=True)
        (where / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {url}\n')
        for folder in ("manifests", "staging/manifests"):
            (where / folder).mkdir(parents=True)
            (where / folder / "web.yaml").write_text("")
        return where

    def name(where, path):
        return project.resolve(None, {}, [path], where, of_paths([path], where, "h"))

    shop = repo(tmp_path / "shop", "git@github.com:acme/shop.git")
    blog = repo(tmp_path / "blog", "https://github.com/acme/blog")
    runner = repo(tmp_path / "builds" / "1234", "https://github.com/acme/shop")
    one = name(shop, "manifests")
    assert one.name.startswith("manifests-") and one.former == "manifests"
    assert name(blog, "manifests").name != one.name  # another repository, same folder name
    assert name(shop, "staging/manifests").name != one.name  # another folder of the same name
    assert name(runner, "manifests") == one == name(shop, "manifests/web.yaml")
    top = name(runner, ".")  # a repository's top: its name, not the clone's directory
    assert top.name.startswith("shop-") and top.name == name(shop, ".").name and top.former == "1234"
    agent = project.for_agent(None, {}, "ssh://git@github.com/acme/shop.git", for_repository("ssh://git@github.com/acme/shop.git"),
                              ("manifests",))
    assert agent.name == one.name and agent.former == "shop"  # an older agent named it after the repository
    assert project.for_agent(None, {}, "https://github.com/acme/shop", "git:github.com/acme/shop", (".",)).name == top.name
    assert project.for_agent("mine", {}, "x", "y", (".",)) == project.ProjectName("mine")


def test_lock_key_names_the_host_not_the_spelling(tmp_path):
    from podspec.engine.connection import Endpoint, local_storage

    sock = tmp_path / "podman.sock"
    a = Endpoint(f"unix://{sock}", "--url")
    b = Endpoint(f"unix://{tmp_path}/./podman.sock", "--url")
    assert a.lock_key == b.lock_key
    # The default socket and a private service on the default storage are the same host.
    default = Endpoint("unix:///run/podman/podman.sock", "the default socket", storage=local_storage({}))
    private = Endpoint(f"unix://{tmp_path}/x.sock", "a private podman service", storage=local_storage({}))
    assert default.lock_key == private.lock_key
    other = Endpoint(f"unix://{tmp_path}/y.sock", "a private podman service",
                     storage=local_storage({"CONTAINERS_STORAGE_CONF": str(tmp_path / "storage.conf")}))
    assert other.lock_key != default.lock_key
