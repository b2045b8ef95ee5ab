// Tests of the PersonaTrain layer live in this folder.
