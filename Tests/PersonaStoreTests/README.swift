// Tests of the PersonaStore layer live in this folder.
