// bind_config: the typed settings (ArbiterConfig, WorkerConfig and their parts) as classes.
#pragma once

#include <nanobind/nanobind.h>

namespace monoceros::bindings {

// Adds the settings classes and enums to `module`. Python (monoceros.core_settings) fills
// them once from the settings table; C++ reads them as plain structs, never by key.
void bind_config(nanobind::module_& module);

}  // namespace monoceros::bindings
