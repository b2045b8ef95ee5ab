// Tests of the PersonaTensor layer live in this folder.
