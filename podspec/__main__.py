from podspec.cli import main

main()
