// Tests of the PersonaData layer live in this folder.
