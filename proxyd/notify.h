/*
 * notify.h - service manager readiness (the sd_notify protocol).
 */
#ifndef PROXYD_NOTIFY_H
#define PROXYD_NOTIFY_H

/*
 * Each sends one datagram to $NOTIFY_SOCKET if it is set (systemd
 * Type=notify); without it they do nothing.  Failures are ignored: the
 * service manager's bookkeeping never stops the proxy.  Main thread only.
 */
void	notify_ready(void);		/* READY=1: listening, serving */
void	notify_stopping(void);		/* STOPPING=1: draining */
void	notify_reloading(void);		/* RELOADING=1 (then notify_ready) */

#endif /* PROXYD_NOTIFY_H */
