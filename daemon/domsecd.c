/*
 * domsecd.c - the Domain Security daemon: reads the configuration (and
 * refuses to start on any error, exit 78), opens the configured front ends
 * (milter, Postfix policy service, Postfix socketmap), detaches, writes its
 * pid file and serves until SIGTERM or SIGINT; SIGHUP reloads the
 * configuration (domsec/generation.h).
 *
 *   domsecd [-f] [-n] [-d] [-c FILE] [-p PIDFILE] [--version] [--help]
 *
 * main() is a list of named steps: parse, check, open sockets, detach,
 * load, start, serve, stop.  All front ends share the current generation
 * (engine, session core, outbound policy) and one hand-off table.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "domsec/config.h"
#include "domsec/crl.h"
#include "domsec/engine.h"
#include "domsec/generation.h"
#include "domsec/inbound.h"
#include "domsec/peer.h"
#include "domsec/session.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/metrics.h"
#include "domsec/outbound.h"
#include "domsec/verdict.h"
#include "domsec/version.h"
#include "../policy/policy.h"
#include "../policy/socketmap.h"
#include "daemon.h"
#include "metrics_http.h"
#include "../milter/milter.h"

#define DEFAULT_CONFIG "/etc/domsec/domsec.conf"
#define COUNTERS_SAVE_INTERVAL_S 10

struct options {
	const char *config_path;
	const char *pid_file;
	int foreground;
	int check_only;
	int debug;
};

static volatile sig_atomic_t housekeeping_stop;


static void usage(FILE *to)
{
	fprintf(to,
	    "usage: domsecd [-f] [-n] [-d] [-c FILE] [-p PIDFILE] [--version] [--help]\n"
	    "  -c FILE     configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -f          stay in the foreground and log to stderr too\n"
	    "  -n          check the configuration and exit (0 good, 78 bad)\n"
	    "  -d          log debug messages\n"
	    "  -p PIDFILE  write the process id there (overrides PidFile)\n"
	    "SIGHUP reloads the configuration; SIGTERM stops.\n");
}

/* 0 to go on, 1 when answered (--help, --version), -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	o->config_path = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:fndp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->check_only = 1; break;
		case 'd': o->debug = 1; break;
		case 'p': o->pid_file = optarg; break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("domsecd %s\n", DOMSEC_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The front-end sockets must be valid and at least one configured. */
static int check_sockets(const struct ds_config *cfg, char *err, size_t errlen)
{
	const char *specs[3] = { cfg->milter_socket, cfg->policy_socket,
	    cfg->socketmap_socket };
	const char *keys[3] = { "MilterSocket", "PolicySocket", "SocketmapSocket" };
	char why[256];
	int any = 0;

	for (int i = 0; i < 3; i++) {
		if (specs[i] == NULL || specs[i][0] == '\0')
			continue;
		any = 1;
		if (ds_listen_spec_valid(specs[i], why, sizeof why) < 0) {
			snprintf(err, errlen, "%s: %s %s", cfg->source_path ? cfg->source_path
			    : "configuration", keys[i], why);
			return -1;
		}
	}
	if (!any) {
		snprintf(err, errlen, "%s: no front end configured: set MilterSocket, "
		    "PolicySocket or SocketmapSocket", cfg->source_path ? cfg->source_path
		    : "configuration");
		return -1;
	}
	return 0;
}

/* The directories of the unix sockets, created when missing. */
static int prepare_socket_dirs(const struct ds_config *cfg, char *err,
    size_t errlen)
{
	const char *specs[3] = { cfg->milter_socket, cfg->policy_socket,
	    cfg->socketmap_socket };
	char path[256];

	for (int i = 0; i < 3; i++)
		if (specs[i] != NULL && ds_listen_unix_path(specs[i], path,
		    sizeof path) && ds_socket_prepare_dir(path, cfg, err, errlen) < 0)
			return -1;
	return 0;
}

static void counters_path(const struct ds_config *cfg, char *out, size_t outlen)
{
	out[0] = '\0';
	if (cfg->state_dir != NULL && cfg->state_dir[0] != '\0')
		snprintf(out, outlen, "%s/counters", cfg->state_dir);
}

/* StateDir/metrics.prom (Prometheus text, for node_exporter's textfile
 * collector and `domsecctl counters --format prometheus`) next to
 * StateDir/counters. */
static void save_metrics(const char *counters_file)
{
	char path[4200];
	struct ds_generation *g;

	if (ds_metrics_path(counters_file, path, sizeof path) != 0)
		return;
	g = ds_generation_acquire();
	if (ds_metrics_save(path, g != NULL ? ds_engine_crls(g->engine) : NULL) != 0)
		ds_log(LOG_WARNING, "%s: cannot write the metrics: %s", path,
		    strerror(errno));
	ds_generation_release(g);
}

/* Saves the counters and metrics every few seconds for `domsecctl
 * counters`. */
static void *housekeeping(void *arg)
{
	const char *path = arg;

	while (!housekeeping_stop) {
		for (int i = 0; i < COUNTERS_SAVE_INTERVAL_S * 10 && !housekeeping_stop; i++)
			usleep(100000);
		if (path[0] != '\0') {
			ds_counters_save(path);
			save_metrics(path);
		}
	}
	return NULL;
}

/*
 * Signals.  libmilter's own signal thread sigwait()s for SIGHUP, SIGTERM
 * and SIGINT and stops the milter on any of them, noticing only every few
 * seconds.  domsecd must reload on SIGHUP and stop at once on SIGTERM, so
 * none of the three is blocked in the main thread and each has a handler:
 * the kernel delivers a process-directed signal to the main thread when it
 * accepts it, so libmilter's thread never sees them, and the main loop
 * acts on the flags.
 */
static volatile sig_atomic_t hup_received, term_received;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_received = 1;
	else
		term_received = sig;
}

/* ---- the running daemon ---- */

struct daemon {
	struct options o;
	struct ds_config boot;        /* as read at start: sockets, user, ... */
	int boot_loaded;
	struct ds_sessions *handoff;  /* shared by every generation */
	const char *pid_file;
	char counters_file[4096];
	int policy_fd, ready_fd, metrics_fd;
	int metrics_started;
	int pid_written, policy_started, socketmap_started, keeper_started;
	int milter_started;
	pthread_t keeper, milter_tid;
	atomic_int milter_done;
	int milter_status;
};

static void *milter_thread(void *arg)
{
	struct daemon *d = arg;

	d->milter_status = ds_milter_run(1);
	atomic_store(&d->milter_done, 1);
	return NULL;
}

/* Step "check": the configuration, with everything -n also loads. */
static int step_check(struct daemon *d)
{
	char err[1024];
	struct ds_generation *g;

	if (ds_config_load(d->o.config_path, &d->boot, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	d->boot_loaded = 1;
	if (check_sockets(&d->boot, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	if (!d->o.check_only)
		return 0;
	/* -n also loads the trust anchors, pins and partners; it creates
	 * nothing. */
	g = ds_generation_load(d->o.config_path, NULL, DS_GEN_CHECK_ONLY, err,
	    sizeof err);
	if (g == NULL) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	ds_generation_release(g);
	return 0;
}

/* Step "signals": SIGHUP, SIGTERM and SIGINT set flags for the main loop
 * (see above). */
static void step_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Step "open sockets": before detaching, so that a busy port or a bad
 * path is reported on the terminal. */
static int step_open_sockets(struct daemon *d)
{
	const struct ds_config *cfg = &d->boot;
	char err[1024], path[256];

	if (prepare_socket_dirs(cfg, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	if (cfg->policy_socket != NULL && cfg->policy_socket[0] != '\0') {
		d->policy_fd = ds_listen(cfg->policy_socket, err, sizeof err);
		if (d->policy_fd >= 0 && ds_listen_unix_path(cfg->policy_socket,
		    path, sizeof path) &&
		    ds_socket_set_access(path, cfg, err, sizeof err) < 0) {
			close(d->policy_fd);
			d->policy_fd = -1;
		}
		if (d->policy_fd < 0) {
			ds_log(LOG_ERR, "PolicySocket %s", err);
			return -1;
		}
	}
	if (cfg->milter_socket != NULL && cfg->milter_socket[0] != '\0'
	    && ds_milter_open(cfg->milter_socket, cfg, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "MilterSocket %s", err);
		return -1;
	}
	if (cfg->metrics_socket != NULL && cfg->metrics_socket[0] != '\0') {
		if (ds_listen_unix_path(cfg->metrics_socket, path, sizeof path)) {
			ds_log(LOG_ERR, "MetricsSocket %s: must be an inet socket "
			    "(Prometheus scrapes over TCP)", cfg->metrics_socket);
			return -1;
		}
		d->metrics_fd = ds_listen(cfg->metrics_socket, err, sizeof err);
		if (d->metrics_fd < 0) {
			ds_log(LOG_ERR, "MetricsSocket %s", err);
			return -1;
		}
	}
	return 0;
}

/* Step "detach": background (unless -f), pid file, state directories,
 * then the user. */
static int step_detach(struct daemon *d)
{
	const struct ds_config *cfg = &d->boot;

	if (!d->o.foreground) {
		if (ds_daemonize(&d->ready_fd) < 0) {
			ds_log(LOG_ERR, "cannot detach from the terminal: %s",
			    strerror(errno));
			return -1;
		}
		ds_log_open("domsecd", cfg->syslog, 0, cfg->syslog_facility,
		    d->o.debug ? LOG_DEBUG : cfg->log_level);
	}
	if (d->pid_file != NULL && d->pid_file[0] != '\0') {
		if (ds_write_pid_file(d->pid_file) < 0)
			ds_log(LOG_WARNING, "PidFile %s: cannot write it: %s",
			    d->pid_file, strerror(errno));
		else
			d->pid_written = 1;
	}
	/* Created while still root; a failure only costs saved counters or
	 * the on-disk CRL copies, and is logged. */
	/* StateDir (counters, metrics) is readable by the user's group, so
	 * that administrators in it can run `domsecctl counters`. */
	if (ds_prepare_state_dir(cfg->state_dir, cfg->user) == 0 &&
	    chmod(cfg->state_dir, 0750) != 0)
		ds_log(LOG_WARNING, "%s: chmod 0750: %s", cfg->state_dir,
		    strerror(errno));
	ds_prepare_state_dir(cfg->crl_cache_dir, cfg->user);
	if (cfg->user != NULL && cfg->user[0] != '\0' &&
	    ds_drop_privileges(cfg->user) < 0)
		return -1;
	return 0;
}

/* Step "load": the first generation (threads only after the fork). */
static int step_load(struct daemon *d)
{
	char err[1024];
	struct ds_generation *g;

	d->handoff = ds_core_handoff_new();
	if (d->handoff == NULL) {
		ds_log(LOG_ERR, "out of memory");
		return -1;
	}
	g = ds_generation_load(d->o.config_path, d->handoff, DS_GEN_REFRESHER,
	    err, sizeof err);
	if (g == NULL) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	ds_generation_publish(g);
	return 0;
}

/* Step "start": counters, front ends, then tell the parent we serve. */
static int step_start(struct daemon *d)
{
	const struct ds_config *cfg = &d->boot;
	char err[1024], path[256];

	counters_path(cfg, d->counters_file, sizeof d->counters_file);
	if (d->counters_file[0] != '\0' && ds_counters_load(d->counters_file) < 0)
		ds_log(LOG_WARNING, "%s: cannot read the saved counters; starting "
		    "from zero", d->counters_file);
	if (pthread_create(&d->keeper, NULL, housekeeping, d->counters_file) == 0)
		d->keeper_started = 1;
	if (d->policy_fd >= 0) {
		if (ds_policy_start(d->policy_fd, err, sizeof err) < 0) {
			ds_log(LOG_ERR, "%s", err);
			return -1;
		}
		d->policy_fd = -1;   /* owned by the policy service now */
		d->policy_started = 1;
	}
	if (cfg->socketmap_socket != NULL && cfg->socketmap_socket[0] != '\0') {
		if (ds_socketmap_start(cfg->socketmap_socket, err, sizeof err) < 0 ||
		    (ds_listen_unix_path(cfg->socketmap_socket, path, sizeof path) &&
		    ds_socket_set_access(path, cfg, err, sizeof err) < 0)) {
			ds_log(LOG_ERR, "SocketmapSocket %s", err);
			return -1;
		}
		d->socketmap_started = 1;
	}
	if (d->metrics_fd >= 0) {
		if (ds_metrics_http_start(d->metrics_fd, err, sizeof err) < 0) {
			ds_log(LOG_ERR, "MetricsSocket %s", err);
			return -1;
		}
		d->metrics_fd = -1;   /* owned by libmicrohttpd now */
		d->metrics_started = 1;
	}
	if (cfg->milter_socket != NULL && cfg->milter_socket[0] != '\0') {
		if (pthread_create(&d->milter_tid, NULL, milter_thread, d) != 0) {
			ds_log(LOG_ERR, "milter: cannot start its thread");
			return -1;
		}
		d->milter_started = 1;
	}
	ds_log(LOG_NOTICE, "started (configuration %s; milter %s, policy %s, "
	    "socketmap %s; %zu partners)", d->o.config_path,
	    cfg->milter_socket ? cfg->milter_socket : "off",
	    cfg->policy_socket ? cfg->policy_socket : "off",
	    cfg->socketmap_socket ? cfg->socketmap_socket : "off",
	    cfg->partners.n);
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, "1", 1) < 0)
			ds_log(LOG_WARNING, "cannot tell the parent process we started");
		close(d->ready_fd);
		d->ready_fd = -1;
	}
	return 0;
}

/*
 * Reload: a complete new generation or nothing.  Sessions in progress
 * finish on the generation they started with; settings that cannot change
 * while running are named.
 */
static void reload(struct daemon *d)
{
	char err[1024], fixed[512];
	struct ds_generation *g, *old;

	g = ds_generation_load(d->o.config_path, d->handoff, DS_GEN_REFRESHER,
	    err, sizeof err);
	if (g == NULL) {
		ds_log(LOG_ERR, "reload refused, the running configuration stays: "
		    "%s", err);
		return;
	}
	ds_generation_fixed_changes(&d->boot, &g->cfg, fixed, sizeof fixed);
	if (fixed[0] != '\0')
		ds_log(LOG_WARNING, "reload: %s changed in %s; that takes effect "
		    "only when domsecd is restarted", fixed, d->o.config_path);
	old = ds_generation_acquire();
	if (old != NULL && !d->o.debug && old->cfg.log_level != g->cfg.log_level)
		ds_log_open("domsecd", d->boot.syslog, d->o.foreground &&
		    !(d->boot.syslog && getenv("JOURNAL_STREAM") != NULL),
		    d->boot.syslog_facility, g->cfg.log_level);
	ds_generation_release(old);
	ds_generation_publish(g);
	ds_log(LOG_NOTICE, "reloaded %s (configuration %lu, %zu partners)",
	    d->o.config_path, g->number, g->cfg.partners.n);
}

/* Step "serve": until SIGTERM or SIGINT (or the milter stops by itself);
 * SIGHUP reloads. */
static void step_serve(struct daemon *d)
{
	for (;;) {
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		if (term_received) {
			ds_log(LOG_NOTICE, "%s: shutting down",
			    term_received == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (hup_received) {
			hup_received = 0;
			ds_log(LOG_NOTICE, "SIGHUP: reloading %s", d->o.config_path);
			reload(d);
		}
		if (d->milter_started && atomic_load(&d->milter_done)) {
			ds_log(LOG_NOTICE, "milter stopped: shutting down");
			return;
		}
		nanosleep(&tick, NULL);   /* a signal cuts it short */
	}
}

#define STOP_DEADLINE_S 2   /* in-flight work gets this long, then we exit */

/* Step "stop": listeners first, a short deadline for work in flight (the
 * MTA's milter_default_action and the policy service's default_action
 * tempfail whatever is cut off), counters saved, pid file removed.
 * Returns how many sessions were still busy. */
static int step_stop(struct daemon *d)
{
	int busy = 0, keep = 0;

	/* libmilter notices smfi_stop only every few seconds: its thread is
	 * not waited for, the open sessions are (bounded), then we exit. */
	if (d->milter_started)
		ds_milter_stop();
	if (d->policy_started)
		busy += ds_policy_stop(STOP_DEADLINE_S);
	if (d->socketmap_started)
		ds_socketmap_stop();
	if (d->metrics_started)
		ds_metrics_http_stop();
	busy += ds_milter_drain(STOP_DEADLINE_S);
	if (d->milter_started && atomic_load(&d->milter_done)) {
		pthread_join(d->milter_tid, NULL);
		if (d->milter_status < 0)
			ds_log(LOG_ERR, "milter: libmilter stopped with an error");
	} else if (d->milter_started) {
		pthread_detach(d->milter_tid);
		keep = 1;   /* its listener may still hold the generation */
	}
	if (d->keeper_started) {
		housekeeping_stop = 1;
		pthread_join(d->keeper, NULL);
		if (d->counters_file[0] != '\0') {
			ds_counters_save(d->counters_file);
			save_metrics(d->counters_file);
		}
	}
	if (d->policy_fd >= 0)
		close(d->policy_fd);
	if (d->metrics_fd >= 0)
		close(d->metrics_fd);
	/* The pid file's directory stays writable for UserID (it is where the
	 * unit or the admin put it); say so when it is not. */
	if (d->pid_written && unlink(d->pid_file) != 0 && errno != ENOENT)
		ds_log(LOG_WARNING, "PidFile %s: cannot remove it: %s", d->pid_file,
		    strerror(errno));
	if (busy > 0)
		ds_log(LOG_WARNING, "exiting with %d sessions still open (the MTA "
		    "tempfails them)", busy);
	if (busy == 0 && !keep) {
		/* A thread may still use the core otherwise: leave it to
		 * exit(). */
		ds_generation_retire();
		ds_sessions_free(d->handoff);
	}
	return busy + keep;
}

int main(int argc, char **argv)
{
	static struct daemon d;   /* static: reachable until exit (LeakSanitizer) */
	int status = DS_EXIT_OK, rc;

	memset(&d, 0, sizeof d);
	d.policy_fd = d.ready_fd = d.metrics_fd = -1;
	rc = parse_options(argc, argv, &d.o);
	if (rc != 0)
		return rc > 0 ? DS_EXIT_OK : DS_EXIT_USAGE;
	/* Start-up errors go to syslog and to the terminal. */
	ds_log_open("domsecd", 1, 1, LOG_MAIL, d.o.debug ? LOG_DEBUG : LOG_INFO);
	if (step_check(&d) < 0) {
		ds_log(LOG_ERR, "refusing to start: fix the configuration in %s",
		    d.o.config_path);
		if (d.boot_loaded)
			ds_config_free(&d.boot);
		return DS_EXIT_CONFIG;
	}
	if (d.o.check_only) {
		printf("domsecd: configuration %s is valid (%zu partners)\n",
		    d.o.config_path, d.boot.partners.n);
		ds_config_free(&d.boot);
		return DS_EXIT_OK;
	}
	/* Under systemd stderr goes to the journal too: log to one of them
	 * once started. */
	ds_log_open("domsecd", d.boot.syslog, !(d.boot.syslog &&
	    getenv("JOURNAL_STREAM") != NULL), d.boot.syslog_facility,
	    d.o.debug ? LOG_DEBUG : d.boot.log_level);
	d.pid_file = d.o.pid_file != NULL ? d.o.pid_file : d.boot.pid_file;
	step_signals();
	if (step_open_sockets(&d) < 0)
		status = DS_EXIT_CONFIG;
	else if (step_detach(&d) < 0)
		status = DS_EXIT_CONFIG;
	else if (step_load(&d) < 0)
		status = DS_EXIT_CONFIG;
	else if (step_start(&d) < 0)
		status = 1;
	else
		step_serve(&d);
	if (step_stop(&d) == 0)
		ds_config_free(&d.boot);
	if (status == DS_EXIT_OK)
		ds_log(LOG_NOTICE, "stopped");
	return status;
}
