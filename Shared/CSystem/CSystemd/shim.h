#ifndef FLEET_CSYSTEMD_SHIM_H
#define FLEET_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
