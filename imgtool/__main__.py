from imgtool.cli.main import main

if __name__ == "__main__":
    main()
