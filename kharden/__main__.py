from kharden.cli import main

main()
