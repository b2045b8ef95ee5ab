// Tests of the PersonaModel layer live in this folder.
