"""Which files a run reads, for every command: the one directory walk (`discover`: .gitignore, `--exclude`, hidden
directories, Helm chart directories). Below `kharden.run` in the layers, so the library calls (`run.fix`,
`run.check`), `kharden rbac`, `images lock` and the tree edges (`fix`, `check`, `generate`) all walk alike."""
