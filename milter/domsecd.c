/*
 * domsecd.c - the Domain Security daemon: reads the configuration (and
 * refuses to start on any error, exit 78), opens the configured front ends
 * (milter, Postfix policy service, Postfix socketmap), detaches, writes its
 * pid file and serves until SIGTERM or SIGINT.
 *
 *   domsecd [-f] [-n] [-d] [-c FILE] [-p PIDFILE]
 *
 * All front ends share one engine (trust anchors, CRL cache) and one inbound
 * core (partner table, certificate acquisition, hand-off table).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include "domsec/config.h"
#include "domsec/crl.h"
#include "domsec/engine.h"
#include "domsec/inbound.h"
#include "domsec/listen.h"
#include "domsec/log.h"
#include "domsec/outbound.h"
#include "domsec/sessions.h"
#include "domsec/verdict.h"
#include "../policy/policy.h"
#include "../policy/socketmap.h"
#include "daemon.h"
#include "milter.h"

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

static void usage(void)
{
	fprintf(stderr,
	    "usage: domsecd [-f] [-n] [-d] [-c FILE] [-p PIDFILE]\n"
	    "  -c FILE     configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -f          stay in the foreground and log to stderr too\n"
	    "  -n          check the configuration and exit (0 good, 78 bad)\n"
	    "  -d          log debug messages\n"
	    "  -p PIDFILE  write the process id there (overrides PidFile)\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->config_path = DEFAULT_CONFIG;
	while ((c = getopt(argc, argv, "c:fndp:h")) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->check_only = 1; break;
		case 'd': o->debug = 1; break;
		case 'p': o->pid_file = optarg; break;
		default:
			usage();
			return -1;
		}
	}
	if (optind != argc) {
		usage();
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

static void counters_path(const struct ds_config *cfg, char *out, size_t outlen)
{
	out[0] = '\0';
	if (cfg->state_dir != NULL && cfg->state_dir[0] != '\0')
		snprintf(out, outlen, "%s/counters", cfg->state_dir);
}

/* Saves the counters every few seconds for `domsecctl counters`. */
static void *housekeeping(void *arg)
{
	const char *path = arg;

	while (!housekeeping_stop) {
		for (int i = 0; i < COUNTERS_SAVE_INTERVAL_S * 10 && !housekeeping_stop; i++)
			usleep(100000);
		if (path[0] != '\0')
			ds_counters_save(path);
	}
	return NULL;
}

/*
 * Signals.  libmilter's own signal thread stops the milter on SIGHUP as on
 * SIGTERM; domsecd must not stop when logrotate or an admin sends SIGHUP.
 * So SIGHUP is never blocked in the main thread and has a handler: the
 * kernel delivers it there (a process-directed signal goes to the main
 * thread when it accepts it), libmilter's sigwait() never sees it, and the
 * main loop logs it.  SIGTERM and SIGINT stay blocked everywhere and are
 * taken by sigtimedwait() in the main loop, or by libmilter's thread, which
 * then ends smfi_main(): either way everything stops.
 */
static volatile sig_atomic_t hup_received;

static void on_sighup(int sig)
{
	(void)sig;
	hup_received = 1;
}

struct milter_run {
	struct ds_inbound *in;
	const struct ds_config *cfg;
	struct ds_sessions *handoff;
	atomic_int done;
	int status;
};

static void *milter_thread(void *arg)
{
	struct milter_run *run = arg;

	run->status = ds_milter_run(run->in, run->cfg, run->handoff);
	atomic_store(&run->done, 1);
	return NULL;
}

/* Serves until SIGTERM or SIGINT (or until the milter stops by itself);
 * logs SIGHUP. */
static void main_loop(const sigset_t *term_signals, struct milter_run *run)
{
	for (;;) {
		struct timespec tick = { 0, 200 * 1000 * 1000 };
		int sig = sigtimedwait(term_signals, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			ds_log(LOG_NOTICE, "%s: shutting down",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			if (run != NULL)
				ds_milter_stop();
			return;
		}
		if (hup_received) {
			hup_received = 0;
			ds_log(LOG_NOTICE, "SIGHUP: nothing to reopen (logs go to "
			    "syslog); configuration changes take effect when "
			    "domsecd is restarted");
		}
		if (run != NULL && atomic_load(&run->done)) {
			ds_log(LOG_NOTICE, "milter stopped: shutting down");
			return;
		}
	}
}

static int check_config(const struct options *o, struct ds_config *cfg)
{
	char err[1024];
	struct ds_engine *engine;
	struct ds_inbound *in;

	if (ds_config_load(o->config_path, cfg, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "%s", err);
		return -1;
	}
	if (check_sockets(cfg, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "%s", err);
		ds_config_free(cfg);
		return -1;
	}
	if (!o->check_only)
		return 0;
	/* -n also loads the trust anchors, pins and partners. */
	engine = ds_engine_new(cfg, err, sizeof err);
	if (engine == NULL) {
		ds_log(LOG_ERR, "%s", err);
		ds_config_free(cfg);
		return -1;
	}
	for (size_t i = 0; i < engine->crl_file_problems.n; i++)
		ds_log(LOG_WARNING, "CRL file skipped: %s",
		    engine->crl_file_problems.v[i]);
	in = ds_inbound_new(cfg, engine, err, sizeof err);
	if (in == NULL) {
		ds_log(LOG_ERR, "%s", err);
		ds_engine_free(engine);
		ds_config_free(cfg);
		return -1;
	}
	ds_inbound_free(in);
	ds_engine_free(engine);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ds_config cfg;
	char err[1024], counters_file[4096];
	struct ds_engine *engine = NULL;
	struct ds_inbound *in = NULL;
	struct ds_outbound *ob = NULL;
	struct ds_sessions *handoff = NULL;
	const char *pid_file;
	int policy_fd = -1, ready_fd = -1, status = DS_EXIT_OK;
	int policy_started = 0, socketmap_started = 0, busy = 0;
	pthread_t keeper;
	int keeper_started = 0, pid_written = 0;
	sigset_t signals;
	struct milter_run milter = { 0 };
	pthread_t milter_tid;

	if (parse_options(argc, argv, &o) < 0)
		return DS_EXIT_USAGE;
	ds_log_open("domsecd", 0, 1, LOG_MAIL, o.debug ? LOG_DEBUG : LOG_INFO);
	if (check_config(&o, &cfg) < 0) {
		ds_log(LOG_ERR, "refusing to start: fix the configuration in %s",
		    o.config_path);
		return DS_EXIT_CONFIG;
	}
	if (o.check_only) {
		printf("domsecd: configuration %s is valid (%zu partners)\n",
		    o.config_path, cfg.partners.n);
		ds_config_free(&cfg);
		return DS_EXIT_OK;
	}
	/* stderr too until we detach, so start-up errors reach the terminal */
	ds_log_open("domsecd", cfg.syslog, 1, cfg.syslog_facility,
	    o.debug ? LOG_DEBUG : cfg.log_level);
	pid_file = o.pid_file != NULL ? o.pid_file : cfg.pid_file;

	/* Every thread inherits this mask (see main_loop). */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_sighup;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGHUP, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);

	/* Listening sockets first, so that a busy port is reported here. */
	if (cfg.policy_socket != NULL && cfg.policy_socket[0] != '\0') {
		policy_fd = ds_listen(cfg.policy_socket, err, sizeof err);
		if (policy_fd < 0) {
			ds_log(LOG_ERR, "PolicySocket %s", err);
			status = DS_EXIT_CONFIG;
			goto out;
		}
	}
	if (cfg.milter_socket != NULL && cfg.milter_socket[0] != '\0'
	    && ds_milter_open(cfg.milter_socket, err, sizeof err) < 0) {
		ds_log(LOG_ERR, "MilterSocket %s", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	if (!o.foreground) {
		if (ds_daemonize(&ready_fd) < 0) {
			ds_log(LOG_ERR, "cannot detach from the terminal: %s", strerror(errno));
			status = 1;
			goto out;
		}
		ds_log_open("domsecd", cfg.syslog, 0, cfg.syslog_facility,
		    o.debug ? LOG_DEBUG : cfg.log_level);
	}
	if (pid_file != NULL && pid_file[0] != '\0') {
		if (ds_write_pid_file(pid_file) < 0)
			ds_log(LOG_WARNING, "PidFile %s: cannot write it: %s", pid_file,
			    strerror(errno));
		else
			pid_written = 1;
	}
	/* Created while still root; a failure only costs saved counters or the
	 * on-disk CRL copies, and is logged. */
	ds_prepare_state_dir(cfg.state_dir, cfg.user);
	ds_prepare_state_dir(cfg.crl_cache_dir, cfg.user);
	if (cfg.user != NULL && cfg.user[0] != '\0' && ds_drop_privileges(cfg.user) < 0) {
		status = DS_EXIT_CONFIG;
		goto out;
	}

	/* Threads only after the fork. */
	engine = ds_engine_new(&cfg, err, sizeof err);
	if (engine == NULL) {
		ds_log(LOG_ERR, "%s", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	for (size_t i = 0; i < engine->crl_file_problems.n; i++)
		ds_log(LOG_WARNING, "CRL file skipped: %s",
		    engine->crl_file_problems.v[i]);
	/* CRLs are refreshed in the background before they expire, so that
	 * mail almost never waits for a download (a thread: after the fork). */
	if (engine->crls != NULL && ds_crl_store_start_refresher(engine->crls, 0) < 0)
		ds_log(LOG_WARNING, "cannot start the background CRL refresher; "
		    "CRLs are fetched when a message needs them");
	in = ds_inbound_new(&cfg, engine, err, sizeof err);
	if (in == NULL) {
		ds_log(LOG_ERR, "%s", err);
		status = DS_EXIT_CONFIG;
		goto out;
	}
	handoff = ds_sessions_new(sizeof(struct ds_facts), 600, 8192);
	if (handoff == NULL) {
		ds_log(LOG_ERR, "out of memory");
		status = 1;
		goto out;
	}
	counters_path(&cfg, counters_file, sizeof counters_file);
	if (counters_file[0] != '\0' && ds_counters_load(counters_file) < 0)
		ds_log(LOG_WARNING, "%s: cannot read the saved counters; starting "
		    "from zero", counters_file);
	if (pthread_create(&keeper, NULL, housekeeping, counters_file) == 0)
		keeper_started = 1;
	if (policy_fd >= 0) {
		if (ds_policy_start(policy_fd, in, handoff, err, sizeof err) < 0) {
			ds_log(LOG_ERR, "%s", err);
			status = 1;
			goto out;
		}
		policy_fd = -1;   /* owned by the policy service now */
		policy_started = 1;
	}
	if (cfg.socketmap_socket != NULL && cfg.socketmap_socket[0] != '\0') {
		ob = ds_outbound_new(&cfg, engine, err, sizeof err);
		if (ob == NULL || ds_socketmap_start(cfg.socketmap_socket, ob, err,
		    sizeof err) < 0) {
			ds_log(LOG_ERR, "SocketmapSocket %s", err);
			status = DS_EXIT_CONFIG;
			goto out;
		}
		socketmap_started = 1;
	}
	ds_log(LOG_NOTICE, "started (configuration %s; milter %s, policy %s, "
	    "socketmap %s; %zu partners)", o.config_path,
	    cfg.milter_socket ? cfg.milter_socket : "off",
	    cfg.policy_socket ? cfg.policy_socket : "off",
	    cfg.socketmap_socket ? cfg.socketmap_socket : "off", cfg.partners.n);
	if (ready_fd >= 0) {
		if (write(ready_fd, "1", 1) < 0)
			ds_log(LOG_WARNING, "cannot tell the parent process we started");
		close(ready_fd);
		ready_fd = -1;
	}
	if (cfg.milter_socket != NULL && cfg.milter_socket[0] != '\0') {
		milter.in = in;
		milter.cfg = &cfg;
		milter.handoff = handoff;
		if (pthread_create(&milter_tid, NULL, milter_thread, &milter) != 0) {
			ds_log(LOG_ERR, "milter: cannot start its thread");
			status = 1;
			goto out;
		}
		main_loop(&signals, &milter);
		pthread_join(milter_tid, NULL);
		if (milter.status < 0) {
			ds_log(LOG_ERR, "milter: libmilter stopped with an error");
			status = 1;
		}
	} else {
		main_loop(&signals, NULL);
	}

out:
	if (policy_started)
		busy += ds_policy_stop();
	if (socketmap_started)
		ds_socketmap_stop();
	busy += ds_milter_drain(30);
	if (keeper_started) {
		housekeeping_stop = 1;
		pthread_join(keeper, NULL);
		if (counters_file[0] != '\0')
			ds_counters_save(counters_file);
	}
	if (policy_fd >= 0)
		close(policy_fd);
	if (busy > 0) {
		/* A session thread may still use the core: leave it to exit(). */
		ds_log(LOG_WARNING, "exiting with %d sessions still open", busy);
	} else {
		if (ob != NULL)
			ds_outbound_free(ob);
		if (in != NULL)
			ds_inbound_free(in);
		if (handoff != NULL)
			ds_sessions_free(handoff);
		if (engine != NULL)
			ds_engine_free(engine);
	}
	if (pid_written)
		unlink(pid_file);
	if (busy == 0)
		ds_config_free(&cfg);
	if (status == DS_EXIT_OK)
		ds_log(LOG_NOTICE, "stopped");
	return status;
}
