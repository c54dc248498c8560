// Only the precompiled header of the tests is built from this file
// (cmake/LiandongTests.cmake); it defines nothing.
