// Tests of the PersonaSample layer live in this folder.
