// The one include of Python.h for the core, with the build-wide definitions it must see first.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
