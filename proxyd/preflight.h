/*
 * preflight.h - what a start would fail on, checked before starting.
 */
#ifndef PROXYD_PREFLIGHT_H
#define PROXYD_PREFLIGHT_H

#include <stdio.h>

struct config;

/* Also check that every listen address can be bound (proxyd -t). */
#define PREFLIGHT_LISTEN	0x1

/*
 * Check what the config asks of the machine: the user exists and can be
 * switched to, the log files can be opened, ca_file loads, and (with
 * PREFLIGHT_LISTEN) no other process holds a listen address.  Every
 * problem goes to errs as "file:line: what"; returns how many there were.
 */
int	preflight_check(const struct config *cfg, int flags, FILE *errs);

#endif /* PROXYD_PREFLIGHT_H */
