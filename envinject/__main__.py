from envinject.cli import main

main()
