// Tests of the PersonaInspect layer live in this folder.
