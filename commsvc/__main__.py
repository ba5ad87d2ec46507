from commsvc.cli import main

main()
