#ifndef FLEET_CYAML_SHIM_H
#define FLEET_CYAML_SHIM_H
#include <yaml.h>
#endif
