// Tests of the PersonaText layer live in this folder.
