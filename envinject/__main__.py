from envinject.entry import main

main()
