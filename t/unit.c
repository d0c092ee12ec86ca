/* Unit tests of the pure parts, as TAP: config, heartbeat request and
 * response, validation, URLs, .md5 files, link resolution in an unpacked tree, signed .sha256 lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "digest.h"
#include "evidence.h"
#include "fetch.h"
#include "fetchsink.h"
#include "fetchwait.h"
#include "heartbeat.h"
#include "log.h"
#include "metrics.h"
#include "probation.h"
#include "record.h"
#include "rollout.h"
#include "seccomp.h"
#include "signature.h"
#include "state.h"
#include "stateread.h"
#include "statewrite.h"
#include "tarball.h"
#include "tarstream.h"
#include "trust.h"
#include "util.h"

static int ntest, nfail;

static void ok(int cond, const char *fmt, ...) ATTR_PRINTF(2, 3);

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	nfail += !cond;
}

static void
is_str(const char *got, const char *want, const char *what)
{
	int same = got && want ? strcmp(got, want) == 0 : got == want;

	ok(same, "%s", what);
	if (!same)
		printf("# got:  %s\n# want: %s\n", got ? got : "(null)", want ? want : "(null)");
}

/* Parse text as a config; the error with its position, or "" on success. */
static const char *
cfg_err_at(const char *text)
{
	static char err[256];
	struct config c;

	err[0] = '\0';
	if (config_parse(&c, text, "/etc/ops", err, sizeof(err)) == 0)
		config_free(&c);
	return err;
}

/* The same without the "line L, column C: " before it. */
static const char *
cfg_err(const char *text)
{
	const char *err = cfg_err_at(text), *p = strstr(err, ": ");

	return strncmp(err, "line ", 5) == 0 && p != NULL ? p + 2 : err;
}

static void
test_config(void)
{
	struct config c;
	char err[256];

	ok(config_parse(&c, "{\"server\": \"10.0.0.1:2001\"}", "/w", err, sizeof(err)) == 0,
	    "config: minimal config parses");
	is_str(c.server, "http://10.0.0.1:2001", "config: bare host:port means http://");
	is_str(c.workdir, "/w", "config: workdir defaults to the config's directory");
	is_str(c.log, "/w/ops-updater.log", "config: log defaults to ops-updater.log in workdir");
	ok(c.jitter == 240 && c.control_timeout == 30 && c.connect_timeout == 10 &&
	    c.heartbeat_timeout == 60 && c.download_max_mb == 1024 && c.nagents == 0,
	    "config: defaults");
	ok(config_manages(&c, "anything"), "config: an empty agents list admits every agent");
	is_str(c.path, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "config: children's path defaults to sudo's secure_path");
	config_free(&c);
	is_str(cfg_err("{\"server\": \"a:1\", \"path\": \"/opt/bin:/usr/bin:/bin\"}"), "",
	    "config: a path of absolute directories");
	is_str(cfg_err("{\"server\": \"a:1\", \"path\": \"/usr/bin:bin\"}"),
	    "path: 'bin' is not an absolute directory (every entry must start with '/'; an empty one means '.')",
	    "config: a relative directory in path");
	is_str(cfg_err("{\"server\": \"a:1\", \"path\": \"/usr/bin::/bin\"}"),
	    "path: '' is not an absolute directory (every entry must start with '/'; an empty one means '.')",
	    "config: an empty entry in path ('.')");
	is_str(cfg_err("{\"server\": \"a:1\", \"path\": \"/usr/bin:\"}"),
	    "path: '' is not an absolute directory (every entry must start with '/'; an empty one means '.')",
	    "config: a trailing ':' in path");

	ok(config_parse(&c, "{\"server\": \"https://meta.example:8443/\", \"agents\": [\"a\", \"b-1\"],"
	    " \"jitter\": 0, \"workdir\": \"/srv/ops\", \"debug\": true, \"interval\": 5}",
	    "/w", err, sizeof(err)) == 0, "config: full config parses, legacy keys accepted");
	is_str(c.server, "https://meta.example:8443", "config: trailing slash dropped");
	ok(c.jitter == 0 && c.verbose == 1, "config: jitter 0 and debug read");
	ok(config_manages(&c, "b-1") && !config_manages(&c, "c"), "config: allow-list");
	is_str(c.log, "/srv/ops/ops-updater.log", "config: log follows workdir");
	config_free(&c);

	/* cfg.example.json shows every key with its default. */
	{
		struct config def = { 0 }, ex = { 0 };
		char *text = NULL;
		/* set by t/0001-unit.t; by hand, build/unit from the top */
		const char *path = getenv("CFG_EXAMPLE") != NULL ? getenv("CFG_EXAMPLE") : "cfg.example.json";
		FILE *f = fopen(path, "r");
		size_t cap = 0;

		ok(f != NULL && getdelim(&text, &cap, '\0', f) > 0, "config: cfg.example.json read");
		if (f != NULL)
			fclose(f);
		ok(text != NULL && config_parse(&ex, text, "/w", err, sizeof(err)) == 0 &&
		    config_parse(&def, "{\"server\": \"http://127.0.0.1:2001\"}", "/w", err, sizeof(err)) == 0,
		    "config: cfg.example.json parses");
		ok(ex.keep_versions == def.keep_versions && ex.tls_insecure == def.tls_insecure &&
		    strcmp(ex.tls_ca_file, def.tls_ca_file) == 0 && strcmp(ex.auth_user, def.auth_user) == 0 &&
		    strcmp(ex.public_key_file, def.public_key_file) == 0,
		    "config: cfg.example.json shows the defaults of the sections");
		ok(ex.jitter == def.jitter && ex.control_timeout == def.control_timeout &&
		    ex.status_wait == def.status_wait && ex.connect_timeout == def.connect_timeout &&
		    ex.heartbeat_timeout == def.heartbeat_timeout &&
		    ex.download_timeout == def.download_timeout && ex.download_stall == def.download_stall &&
		    ex.download_max_mb == def.download_max_mb && ex.log_max_mb == def.log_max_mb &&
		    ex.nagents == 0 && ex.unpack_max_mb == def.unpack_max_mb &&
		    ex.health_wait == def.health_wait && ex.retry_failed == def.retry_failed &&
		    ex.partial_max_age == def.partial_max_age &&
		    ex.download_rate_kbps == def.download_rate_kbps &&
		    ex.pass_timeout == def.pass_timeout && def.pass_timeout == 1800 &&
		    strcmp(ex.proxy, def.proxy) == 0 && strcmp(ex.no_proxy, def.no_proxy) == 0 &&
		    strcmp(ex.metrics_file, def.metrics_file) == 0 && strcmp(ex.path, def.path) == 0 &&
		    strcmp(ex.log, def.log) == 0 && strcmp(ex.workdir, def.workdir) == 0,
		    "config: cfg.example.json shows the defaults");
		free(text);
		config_free(&ex);
		config_free(&def);
	}
	ok(config_parse(&c, "{\"server\": \"a:1\", \"workdir\": \"agents\", \"tls\": {\"ca_file\": \"ca.pem\","
	    " \"insecure\": true}, \"auth\": {\"user\": \"ops\", \"password_file\": \"/etc/ops/pw\"},"
	    " \"verify\": {\"public_key\": \"k.pem\"}, \"keep_versions\": 0}", "/etc/ops", err, sizeof(err)) == 0,
	    "config: sections parse");
	is_str(c.workdir, "/etc/ops/agents", "config: a relative workdir is taken from the config's directory");
	is_str(c.tls_ca_file, "/etc/ops/ca.pem", "config: so is a relative tls.ca_file");
	is_str(c.auth_password_file, "/etc/ops/pw", "config: an absolute path stays");
	ok(c.tls_insecure == 1 && c.keep_versions == 0 && strcmp(c.auth_user, "ops") == 0 &&
	    strcmp(c.public_key_file, "/etc/ops/k.pem") == 0 && c.auth_password == NULL,
	    "config: section values read; the password is read by config_load only");
	config_free(&c);
	is_str(cfg_err("{\"server\": \"a:1\", \"tls\": {\"cafile\": \"x\"}}"), "tls.cafile: unknown key",
	    "config: unknown keys in sections are errors");
	is_str(cfg_err("{\"server\": \"a:1\", \"tls\": true}"), "tls: must be an object", "config: section type");
	is_str(cfg_err("{\"server\": \"a:1\", \"tls\": {\"insecure\": \"yes\"}}"),
	    "tls.insecure: must be true or false", "config: tls.insecure type");
	is_str(cfg_err("{\"server\": \"a:1\", \"auth\": {\"user\": \"ops\"}}"),
	    "auth.user and auth.password_file: set both or neither", "config: auth needs both keys");
	is_str(cfg_err("{\"server\": \"a:1\", \"auth\": {\"user\": \"a:b\", \"password_file\": \"p\"}}"),
	    "auth.user: must not contain ':'", "config: a ':' cannot stand in a Basic user name");
	is_str(cfg_err("{\"server\": \"a:1\", \"tls\": {\"key_file\": \"k\"}}"),
	    "tls.cert_file and tls.key_file: set both or neither", "config: a key without its certificate");
	is_str(cfg_err("{\"server\": \"a:1\", \"keep_versions\": -1}"),
	    "keep_versions: must be a whole number from 0 to 1000", "config: keep_versions range");
	is_str(cfg_err("{}"), "server: must be set (http://host:port)", "config: server required");
	is_str(cfg_err("{\"server\": \"\"}"), "", "config: server \"\" is a host not configured yet");
	is_str(cfg_err("{\"server\": 5}"), "server: must be a URL or a list of URLs", "config: server type");
	is_str(cfg_err("{\"server\": [\"\"]}"), "server: must be set (http://host:port)",
	    "config: an empty URL in a list is a mistake");
	is_str(cfg_err("{\"server\": \"ftp://x\"}"), "server: scheme must be http:// or https://",
	    "config: server scheme");
	is_str(cfg_err("{\"server\": \"http://\"}"), "server: no host in 'http://'", "config: server host");
	is_str(cfg_err("{\"server\": \"a:1\", \"jitter\": -1}"),
	    "jitter: must be a whole number from 0 to 3600", "config: jitter range");
	is_str(cfg_err("{\"server\": \"a:1\", \"control_timeout\": 1.5}"),
	    "control_timeout: must be a whole number from 1 to 3600", "config: whole numbers only");
	is_str(cfg_err("{\"server\": \"a:1\", \"control_timeout\": \"30\"}"),
	    "control_timeout: must be a whole number from 1 to 3600", "config: number type");
	is_str(cfg_err("{\"server\": \"a:1\", \"agnets\": []}"), "agnets: unknown key",
	    "config: a misspelt key is an error");
	is_str(cfg_err("{\"server\": \"a:1\", \"agents\": [\"../x\"]}"),
	    "agents: entry 1 is not a valid agent name", "config: agent names checked");
	is_str(cfg_err("{\"server\": \"a:1\", \"agents\": \"a\"}"),
	    "agents: must be a list of agent names", "config: agents type");
	is_str(cfg_err("{\"server\": \"a:1\", \"debug\": 1}"), "debug: must be true or false",
	    "config: debug type");
	is_str(cfg_err("{\"server\": \"a:1\", \"jitter\": 1, \"jitter\": 2}"), "jitter: given twice",
	    "config: a key given twice is an error");
	is_str(cfg_err_at("[1]"), "line 1, column 1: not a JSON object", "config: not an object");
	is_str(cfg_err_at("{\"server\": "), "line 1, column 12: JSON syntax error", "config: syntax error");
	/* Every error says where: the syntax error's spot, else the key's. */
	is_str(cfg_err_at("{\n  \"server\": \"a:1\"\n  \"jitter\": 1\n}"), "line 3, column 3: JSON syntax error",
	    "config: a missing comma, at the next key");
	is_str(cfg_err_at("{\"server\": \"a:1\",\n\t\"s\u00e9\": 1, \"jitter\": -1}"),
	    "line 2, column 2: s\u00e9: unknown key", "config: columns count characters, tabs as one");
	is_str(cfg_err_at("{\"server\": \"a:1\",\n \"x\": \"\\\"jitter\\\": 1\", \"jitter\": -1}"),
	    "line 2, column 2: x: unknown key", "config: a string that looks like a key is none");
	is_str(cfg_err_at("{\"server\": \"a:1\", \"log\": \"\\\"jitter\\\": 1\",\n \"jitter\": -1}"),
	    "line 2, column 2: jitter: must be a whole number from 0 to 3600", "config: the key, not a value like it");
	is_str(cfg_err_at("{\"server\": \"a:1\",\n \"jitter\": 1,\n \"jitter\": 2}"), "line 3, column 2: jitter: given twice",
	    "config: a key given twice, at its second");
	is_str(cfg_err_at("{\"server\": \"a:1\", \"ca_file\": 1,\n \"tls\": {\"ca_file\": 3}}"),
	    "line 1, column 19: ca_file: unknown key", "config: a key at the top");
	is_str(cfg_err_at("{\"server\": \"a:1\", \"verify\": {\"ca_file\": 1},\n \"tls\": {\"ca_file\": 3}}"),
	    "line 1, column 30: verify.ca_file: unknown key", "config: a key in its section");
	is_str(cfg_err_at("{\"server\": \"a:1\", \"auth\": {\"user\": \"a\"},\n \"tls\": {\"ca_file\": \"x\",\n  \"cert_file\": \"c\"}}"),
	    "line 3, column 3: tls.cert_file and tls.key_file: set both or neither", "config: the first key of a pair");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"http://proxy.example:3128\", \"no_proxy\": \"meta,.lan\"}"), "",
	    "config: an http proxy and a no_proxy list");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"HTTPS://p:3129/\"}"), "", "config: an https proxy");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"socks4://p:1080\"}"),
	    "proxy: must be an http:// or https:// URL (http://host:port)", "config: proxy scheme");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"p:3128\"}"),
	    "proxy: must be an http:// or https:// URL (http://host:port)", "config: proxy without scheme");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"http://p:3128 x\"}"),
	    "proxy: must be a URL without spaces or quotes", "config: proxy with a space");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"http://p\\n:1\"}"),
	    "proxy: must not contain control characters", "config: proxy with a newline");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"http:///x\"}"), "proxy: no host in 'http:///x'",
	    "config: proxy without a host");
	is_str(cfg_err("{\"server\": \"a:1\", \"proxy\": \"http://u:pw@p:3128\"}"),
	    "proxy: must not hold credentials (user:password@)", "config: proxy credentials refused");
	is_str(cfg_err("{\"server\": \"a:1\", \"no_proxy\": \"a\\u0001b\"}"),
	    "no_proxy: must not contain control characters", "config: no_proxy with a control character");
}

/* The protection line of `status` for a config text. */
static const char *
protection(const char *text)
{
	static char buf[256];
	struct config c;

	if (config_parse(&c, text, "/w", buf, sizeof(buf)) == -1)
		return buf;
	config_protection(&c, buf, sizeof(buf));
	config_free(&c);
	return buf;
}

static void
test_protection(void)
{
	char small[12];
	struct config c;
	char err[256];

	is_str(protection("{\"server\": \"meta:2001\"}"),
	    "plain http, no key: accidental corruption only (MD5 from the same origin)",
	    "protection: plain http, no key");
	is_str(protection("{\"server\": \"https://meta\", \"tls\": {\"ca_file\": \"ca.pem\", \"cert_file\": \"c.pem\","
	    " \"key_file\": \"c.key\"}, \"verify\": {\"public_key\": \"k.pub\"}}"),
	    "https, CA pinned (tls.ca_file), client certificate, signed releases (verify.public_key)",
	    "protection: everything");
	is_str(protection("{\"server\": \"https://meta\"}"),
	    "https, system CAs, no key: releases as trusted as the server (MD5 from the same origin)",
	    "protection: https with the system's CAs, no key");
	is_str(protection("{\"server\": \"https://meta\", \"tls\": {\"insecure\": true, \"ca_file\": \"ca.pem\"}}"),
	    "https, certificates NOT verified, no key: accidental corruption only (MD5 from the same origin)",
	    "protection: tls.insecure says so, and makes https no better than http");
	is_str(protection("{\"server\": \"http://meta\", \"auth\": {\"user\": \"u\", \"password_file\": \"p\"},"
	    " \"verify\": {\"public_key\": \"k.pub\"}}"),
	    "plain http, password sent in clear, signed releases (verify.public_key)",
	    "protection: a password over plain http is named; a key still signs");
	is_str(protection("{\"server\": \"https://meta\", \"auth\": {\"user\": \"u\", \"password_file\": \"p\"}}"),
	    "https, system CAs, no key: releases as trusted as the server (MD5 from the same origin)",
	    "protection: a password over https is not in clear");
	is_str(protection("{\"server\": \"\", \"verify\": {\"public_key\": \"k.pub\"}}"),
	    "none: not configured (server is empty), passes do nothing",
	    "protection: an empty server protects nothing, as it does nothing");
	if (config_parse(&c, "{\"server\": \"\"}", "/w", err, sizeof(err)) == 0) {
		ok(config_unconfigured(&c), "config: server \"\" is unconfigured");
		config_free(&c);
	}
	if (config_parse(&c, "{\"server\": \"meta:1\"}", "/w", err, sizeof(err)) == 0) {
		ok(!config_unconfigured(&c), "config: a server set is configured");
		is_str(config_protection(&c, small, sizeof(small)), "plain http,", "protection: cut at the buffer's size");
		config_free(&c);
	}
}

static void
test_names(void)
{
	ok(name_is_valid("falcon-agent") && name_is_valid("1.0.0") && name_is_valid("a_b.C-9"),
	    "names: ordinary names pass");
	ok(!name_is_valid("") && !name_is_valid(".") && !name_is_valid("..") &&
	    !name_is_valid(".hidden") && !name_is_valid("a/b") && !name_is_valid("a b") &&
	    !name_is_valid("a\nb") && !name_is_valid("caf\xc3\xa9") && !name_is_valid(NULL),
	    "names: empty, dot-names, slashes, spaces, control and non-ASCII bytes refused");
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(!name_is_valid(longname), "names: over 128 bytes refused");
}

static void
test_vis(void)
{
	char out[16], big[64];

	ok(str_vis(big, sizeof(big), "a\nb\\c\x7f\xc3") == 17 &&
	    strcmp(big, "a\\x0ab\\\\c\\x7f\\xc3") == 0, "vis: control, backslash, DEL, high bytes escaped");
	ok(str_vis(out, sizeof(out), "0123456789abcdefghij") == 15 && strcmp(out, "0123456789abcde") == 0,
	    "vis: truncated to the buffer, NUL-terminated");
	ok(str_vis(out, 6, "ab\n") == 2 && strcmp(out, "ab") == 0, "vis: never half an escape");
	ok(str_vis(out, 1, "abc") == 0 && out[0] == '\0', "vis: a one-byte buffer holds the NUL");
}

/* Does line (len bytes) end in its only '\n', with no other control byte? */
static int
one_clean_line(const char *line, size_t len)
{
	size_t i;

	if (len == 0 || line[len - 1] != '\n' || line[len] != '\0')
		return 0;
	for (i = 0; i + 1 < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return 0;
	return 1;
}

static void
test_log_format(void)
{
	char line[4096], big[20001], want[512];
	size_t n;

	n = log_format(line, sizeof(line), 0, 42, "info", "falcon-agent", 0, "now at 1.0.1");
	is_str(line, "1970-01-01T00:00:00Z [42] info falcon-agent: now at 1.0.1\n", "log: a line");
	ok(n == strlen(line), "log: the length returned is the line's");
	log_format(line, sizeof(line), 1465874871, 7, "error", NULL, ENOENT, "open /x");
	is_str(line, "2016-06-14T03:27:51Z [7] error: open /x: No such file or directory\n",
	    "log: no agent; strerror appended");
	log_format(line, sizeof(line), 0, 1, "debug", "x\n2026-01-01T00:00:00Z [1] info forged", 0,
	    "a\rb\033[2J\\\xc3");
	is_str(line, "1970-01-01T00:00:00Z [1] debug x\\x0a2026-01-01T00:00:00Z [1] info forged: "
	    "a\\x0db\\x1b[2J\\\\\\xc3\n", "log: agent and message escaped: one line, no forgery");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = log_format(line, sizeof(line), 0, 1, "debug", big, 0, "not in the agents list");
	snprintf(want, sizeof(want), "1970-01-01T00:00:00Z [1] debug %.197s...: not in the agents list\n", big);
	is_str(line, want, "log: a 20,000-byte agent is cut at 200 bytes with ...");
	ok(one_clean_line(line, n), "log: and the line is whole");
	big[197] = '\0';
	log_format(line, sizeof(line), 0, 1, "info", big, 0, "m");
	snprintf(want, sizeof(want), "1970-01-01T00:00:00Z [1] info %.197s: m\n", big);
	is_str(line, want, "log: a 197-byte agent is shown whole");
	memset(big, '\n', 100);
	big[100] = '\0';
	log_format(line, sizeof(line), 0, 1, "info", big, 0, "m");
	ok(strstr(line, "\\x0a...: m\n") != NULL && strlen(line) < 200 + 40,
	    "log: an escaped agent is cut whole escapes at a time");

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = log_format(line, sizeof(line), 0, 1, "info", "a", 0, big);
	ok(n == sizeof(line) - 1 && one_clean_line(line, n), "log: a long message fills the line exactly");
	n = log_format(line, sizeof(line), 0, 1, "error", "a", EACCES, big);
	ok(n < sizeof(line) && one_clean_line(line, n) && strstr(line, "mmm: Permission denied\n") != NULL,
	    "log: a long message leaves room for strerror");
	memset(big, '\001', 5000);
	big[5000] = '\0';
	n = log_format(line, sizeof(line), 0, 1, "info", big, 0, big);
	ok(n < sizeof(line) && one_clean_line(line, n), "log: control bytes everywhere: one clean line");

	n = log_format(line, 30, 0, 123456, "warning", "agent", ENOENT, "msg");
	ok(n == 29 && one_clean_line(line, n), "log: a small buffer still gets one whole line");
	n = log_format(line, 2, 0, 1, "info", "a", 0, "m");
	ok(n == 1 && strcmp(line, "\n") == 0, "log: two bytes hold the newline");
	line[0] = 'x';
	n = log_format(line, 1, 0, 1, "info", "a", 0, "m");
	ok(n == 0 && line[0] == '\0', "log: one byte holds the NUL");
}

static void
test_urls(void)
{
	char *u;

	is_str(u = fetch_url("http://h:8/falcon", "a-1.tar.gz"), "http://h:8/falcon/a-1.tar.gz",
	    "url: prefix/file");
	free(u);
	is_str(u = fetch_url("https://h/x/", "a-1.tar.gz"), "https://h/x/a-1.tar.gz",
	    "url: trailing slash of prefix dropped");
	free(u);
	ok(fetch_url("file:///etc", "x") == NULL && fetch_url("ftp://h/x", "x") == NULL &&
	    fetch_url("h:8/x", "x") == NULL && fetch_url("", "x") == NULL,
	    "url: only http and https");
	ok(fetch_url("http://h/a b", "x") == NULL && fetch_url("http://h/a\nb", "x") == NULL &&
	    fetch_url("http:///x", "x") == NULL && fetch_url("http://", "x") == NULL,
	    "url: spaces, control characters and missing hosts refused");
	ok(fetch_url("http://h/\xc3\xbf", "x") == NULL && fetch_url("http://h/a\x7f", "x") == NULL,
	    "url: bytes outside printable ASCII refused");
	{
		char v[FETCH_VALIDATOR_MAX];
		const char *old = "Tue, 24 Nov 2026 18:00:00 GMT", *now = "Tue, 24 Nov 2026 18:00:01 GMT";

		ok(fetch_resume_validator("\"x1\"", 1, old, now, v, sizeof(v)) == 0 && strcmp(v, "\"x1\"") == 0,
		    "resume: a strong ETag");
		ok(fetch_resume_validator("W/\"x1\"", 1, old, now, v, sizeof(v)) == -1 && v[0] == '\0' &&
		    fetch_resume_validator("", 1, old, now, v, sizeof(v)) == -1,
		    "resume: a weak or unkept ETag: not even the date");
		ok(fetch_resume_validator("", 0, old, now, v, sizeof(v)) == 0 && strcmp(v, old) == 0,
		    "resume: no ETag, a date a second older than the answer");
		ok(fetch_resume_validator("", 0, now, now, v, sizeof(v)) == -1 &&
		    fetch_resume_validator("", 0, old, "", v, sizeof(v)) == -1 &&
		    fetch_resume_validator("", 0, "yesterday", now, v, sizeof(v)) == -1,
		    "resume: a date of the answer's second, no Date, or no date: nothing");
	}
	ok(state_same_outside("http://h/x", "http://h/x") && state_same_outside("a\\xff", "a\xff") &&
	    !state_same_outside("a\xff", "a\xff") && !state_same_outside("http://h/x", "http://h/y"),
	    "url: a stored prefix is compared in its stored form");

	/* Credentials go to the server's origin only. */
	ok(fetch_same_origin("http://meta:2001/files/a.tar.gz", "http://meta:2001"),
	    "origin: same scheme, host and port");
	ok(fetch_same_origin("HTTP://Meta/x", "http://meta:80") && fetch_same_origin("https://h:443/x", "https://h"),
	    "origin: case of scheme and host, default ports");
	ok(!fetch_same_origin("http://meta:2002/x", "http://meta:2001"), "origin: another port");
	ok(!fetch_same_origin("https://meta:2001/x", "http://meta:2001"), "origin: another scheme");
	ok(!fetch_same_origin("http://files:2001/x", "http://meta:2001") &&
	    !fetch_same_origin("http://meta.evil:2001/x", "http://meta:2001") &&
	    !fetch_same_origin("http://meta:2001@evil/x", "http://meta:2001"),
	    "origin: another host, even one that looks like it");
	ok(!fetch_same_origin("", "http://meta") && !fetch_same_origin("http://meta", "") &&
	    !fetch_same_origin("not a url", "not a url"), "origin: what does not parse has none");
}

static void
test_digest(void)
{
	unsigned char d[16], want[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
		0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
	const char *line = "d41d8cd98f00b204e9800998ecf8427e  a-1.tar.gz\n";
	char hex[33];

	ok(digest_parse(line, strlen(line), d, 16) == 0 && memcmp(d, want, 16) == 0,
	    "md5: md5sum line parsed");
	line = "D41D8CD98F00B204E9800998ECF8427E *a-1.tar.gz";
	ok(digest_parse(line, strlen(line), d, 16) == 0 && memcmp(d, want, 16) == 0,
	    "md5: upper case and binary mode");
	line = "d41d8cd98f00b204e9800998ecf8427e";
	ok(digest_parse(line, strlen(line), d, 16) == 0, "md5: a bare digest");
	ok(digest_parse("d41d8cd98f00b204e9800998ecf8427", 31, d, 16) == -1, "md5: too short");
	ok(digest_parse("d41d8cd98f00b204e9800998ecf8427e0", 33, d, 16) == -1, "md5: too long");
	ok(digest_parse("g41d8cd98f00b204e9800998ecf8427e", 32, d, 16) == -1, "md5: not hex");
	ok(digest_parse("<html>404 Not Found</html>", 26, d, 16) == -1, "md5: an error page");
	ok(digest_parse("", 0, d, 16) == -1, "md5: empty");
	digest_hex(want, 16, hex);
	is_str(hex, "d41d8cd98f00b204e9800998ecf8427e", "md5: hex");
}

/* A tree from "type path [target]" lines, e.g. "d bin\nl bin/x ../lib". */
static void
tree_of(struct tarball_tree *t, const char *spec)
{
	char *copy = xstrdup(spec), *line, *save = NULL;

	memset(t, 0, sizeof(*t));
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *path = line + 2, *target = strchr(path, ' ');

		if (target != NULL)
			*target++ = '\0';
		tarball_tree_add(t, path, line[0], target);
	}
	tarball_tree_sort(t);
	free(copy);
}

/* Check every link of the tree given by spec: NULL when all stay inside,
 * else why the first one does not. */
static const char *
links_of(const char *spec)
{
	static char why[512];
	struct tarball_tree t;
	const char *bad = NULL;

	tree_of(&t, spec);
	for (size_t i = 0; i < t.n && bad == NULL; i++)
		if (t.e[i].type == 'l')
			bad = tarball_link_check(&t, t.e[i].path, t.e[i].target, why, sizeof(why));
	tarball_tree_free(&t);
	return bad;
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int
names(const char *text, const char *file)
{
	return signature_names(text, strlen(text), file);
}

static void
test_tarball(void)
{
	char chain[4096] = "f control\nl l0 control\n";

	ok(links_of("f control\nd lib\nf lib/libx.so.1\nl lib/libx.so libx.so.1\nd bin\n"
	    "l bin/x ../lib/libx.so\nl bin/dot .\nl bin/up ..\nl here .\nl missing no/such/file") == NULL,
	    "links: links inside pass (dangling too)");
	ok(links_of("d a\nd a/b\nl a/b/c ../../d") == NULL, "links: '..' back to the root passes");
	is_str(links_of("l x /etc/passwd"), "link 'x' points to '/etc/passwd': an absolute path",
	    "links: absolute refused");
	is_str(links_of("l x "), "link 'x' points to '': nothing", "links: empty target refused");
	is_str(links_of("l x .."), "link 'x' -> '..' climbs above the version directory",
	    "links: '..' at the root refused");
	ok(links_of("d a\nl a/x b/../../../x") != NULL, "links: '..' out after a missing entry refused");
	ok(links_of("f f\nl x f/../..") != NULL, "links: '..' out past a file refused");
	/* The chain a lexical check passes: b is the root, so b/.. is above it. */
	is_str(links_of("l b .\nl u1 b/..\nl u2 u1/.."), "link 'u1' -> 'b/..' climbs above the version directory",
	    "links: b -> ., u1 -> b/.. refused");
	ok(links_of("d d\nl d/b ..\nl u2 d/b/..") != NULL, "links: a link in the middle of a path followed");
	ok(links_of("d a\nd a/b\nl a/b/up ../..\nl x a/b/up/..") != NULL, "links: a link to the root, then '..'");
	ok(links_of("d a\nl a/l ../etc\nl etc /etc\nl x a/l/passwd") != NULL,
	    "links: through a link to an absolute link refused");
	ok(links_of("l a b\nl b a") != NULL, "links: a loop refused");
	for (int i = 1; i <= TARBALL_LINK_HOPS; i++)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "l l%d l%d\n", i, i - 1);
	ok(links_of(chain) == NULL, "links: a chain of %d links passes", TARBALL_LINK_HOPS);
	snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "l l%d l%d\n", TARBALL_LINK_HOPS + 1,
	    TARBALL_LINK_HOPS);
	ok(links_of(chain) != NULL, "links: one more is refused");

	ok(names(HEX64 "  a-1.tar.gz\n", "a-1.tar.gz"), "sig: a sha256sum line names its file");
	ok(names(HEX64 " *a-1.tar.gz", "a-1.tar.gz"), "sig: binary mode, no newline");
	ok(!names(HEX64 "  a-1.tar.gz\n", "b-1.tar.gz"), "sig: another agent refused");
	ok(!names(HEX64 "  a-1.tar.gz\n", "a-1.tar"), "sig: a prefix of the name refused");
	ok(!names(HEX64 "  a-1.tar.gz\nx\n", "a-1.tar.gz"), "sig: a second line refused");
	ok(!names(HEX64 "  a-1.tar.gz\n\n", "a-1.tar.gz"), "sig: a second newline refused");
	ok(!names("0123456789abcdef  a-1.tar.gz\n", "a-1.tar.gz"), "sig: a short digest refused");
}

/* The staged-tree walk on trees made by hand, as no tar would make them. */
static int
tree_check(const char *dir)
{
	return tarball_check_tree("unit", "unit-1.tar.gz", dir, 1);
}

static void
test_tree(void)
{
	char top[] = "/tmp/ops-updater-unit.XXXXXX";
	char *d, *outside, *cmd;
	FILE *f;

	if (mkdtemp(top) == NULL) {
		ok(0, "tree: mkdtemp");
		return;
	}
	d = xasprintf("%s/stage", top);
	outside = xasprintf("%s/outside", top);
	mkdir(d, 0700);
	ok(tree_check(d) == -1, "tree: no control refused");
	f = fopen(cmd = xasprintf("%s/control", d), "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	ok(tree_check(d) == -1, "tree: a control not executable refused");
	chmod(cmd, 0755);
	free(cmd);
	ok(tree_check(d) == 0, "tree: an executable control passes");
	symlink(".", cmd = xasprintf("%s/b", d));
	free(cmd);
	ok(tree_check(d) == 0, "tree: b -> . passes");
	symlink("b/..", cmd = xasprintf("%s/u1", d));
	ok(tree_check(d) == -1, "tree: u1 -> b/.. refused");
	unlink(cmd);
	free(cmd);
	mkfifo(cmd = xasprintf("%s/fifo", d), 0644);
	ok(tree_check(d) == -1, "tree: a FIFO refused");
	unlink(cmd);
	free(cmd);
	f = fopen(outside, "w");
	fclose(f);
	link(outside, cmd = xasprintf("%s/h", d));
	ok(tree_check(d) == -1, "tree: a hard link to a file outside refused");
	unlink(outside);
	ok(tree_check(d) == 0, "tree: the same file, its only name now inside, passes");
	link(cmd, outside);
	free(cmd);
	link(outside, cmd = xasprintf("%s/h2", d));
	unlink(outside);
	ok(tree_check(d) == 0, "tree: two names inside for one file pass");
	chmod(cmd, 04755);
	ok(tree_check(d) == -1, "tree: a setuid file refused");
	chmod(cmd, 02755);
	ok(tree_check(d) == -1, "tree: a setgid file refused");
	chmod(cmd, 0755);
	free(cmd);
	f = fopen(cmd = xasprintf("%s/big", d), "w");
	fseek(f, 2 << 20, SEEK_SET);
	fputc(0, f);
	fclose(f);
	ok(tree_check(d) == -1, "tree: a sparse file over the cap refused");
	unlink(cmd);
	free(cmd);
	/* The entry cap, which the stream's count keeps tar under: control,
	 * b, h, h2, many/ and the files in it make exactly the cap, then
	 * one more. */
	cmd = xasprintf("%s/many", d);
	mkdir(cmd, 0755);
	for (int i = 0; i < TARBALL_ENTRIES_MAX - 5; i++) {
		char *file = xasprintf("%s/%d", cmd, i);
		int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (fd != -1)
			close(fd);
		free(file);
	}
	ok(tree_check(d) == 0, "tree: %d entries pass", TARBALL_ENTRIES_MAX);
	free(cmd);
	f = fopen(cmd = xasprintf("%s/many/one-more", d), "w");
	fclose(f);
	ok(tree_check(d) == -1, "tree: %d entries refused", TARBALL_ENTRIES_MAX + 1);
	free(cmd);
	free(d);
	free(outside);
	cmd = xasprintf("rm -rf %s", top);
	(void)!system(cmd);
	free(cmd);
}

/* Parse body; the error, or "" on success with the response in r. */
static const char *
hb_err(const char *body, struct hb_response *r)
{
	static char err[128];

	err[0] = '\0';
	hb_parse(body, strlen(body), r, err, sizeof(err));
	return err;
}

static void
test_heartbeat(void)
{
	struct real_agent a[2] = { { "falcon-agent", "1.0.0", "started", NULL, 0 },
		{ "x\"y", "2", "stoped", "GET x: HTTP 404", 0 } };
	struct hb_response r;
	char *s;

	is_str(s = hb_request("cnc-bj-1", a, 2, 0, "ignored", 1465874871),
	    "{\"hostname\":\"cnc-bj-1\",\"realAgents\":[{\"name\":\"falcon-agent\",\"version\":\"1.0.0\","
	    "\"status\":\"started\",\"timestamp\":1465874871},{\"name\":\"x\\\"y\",\"version\":\"2\","
	    "\"status\":\"stoped\",\"timestamp\":1465874871,\"error\":\"GET x: HTTP 404\"}]}",
	    "heartbeat: request body as ops-meta reads it; an error only where there is one; one entry per agent");
	free(s);
	is_str(s = hb_request("h", NULL, 0, 0, NULL, 1), "{\"hostname\":\"h\",\"realAgents\":[]}",
	    "heartbeat: no agents: an empty list, as the Go updater sends it");
	free(s);
	is_str(s = hb_request("cnc-bj-1", a, 1, 1, NULL, 1465874871),
	    "{\"hostname\":\"cnc-bj-1\",\"realAgents\":[{\"name\":\"falcon-agent\",\"version\":\"1.0.0\","
	    "\"status\":\"started\",\"timestamp\":1465874871},"
	    "{\"name\":\"ops-updater\",\"version\":\"" OPS_UPDATER_VERSION "\",\"status\":\"started\","
	    "\"timestamp\":1465874871}]}",
	    "heartbeat: heartbeat_self: the updater last");
	free(s);
	{
		struct real_agent self[1] = { { "ops-updater", "9.9", "stoped", NULL, 0 } };

		s = hb_request("h", self, 1, 1, NULL, 1);
		ok(strstr(s, "9.9") == NULL && strstr(s, "\"version\":\"" OPS_UPDATER_VERSION "\"") != NULL,
		    "heartbeat: a directory named ops-updater is not reported over the updater");
		free(s);
		is_str(s = hb_request("h", self, 1, 0, NULL, 1), "{\"hostname\":\"h\",\"realAgents\":[]}",
		    "heartbeat: nor without heartbeat_self");
		free(s);
	}

	is_str(s = hb_request("h", NULL, 0, 1, "a: GET x: HTTP 404", 1), "{\"hostname\":\"h\",\"realAgents\":"
	    "[{\"name\":\"ops-updater\",\"version\":\"" OPS_UPDATER_VERSION "\",\"status\":\"started\","
	    "\"timestamp\":1,\"error\":\"a: GET x: HTTP 404\"}]}",
	    "heartbeat: the updater's own entry carries the errors of agents not installed");
	free(s);
	is_str(hb_err("{\"errorMessage\":\"\",\"desiredAgents\":null}", &r), "", "heartbeat: null list parses");
	ok(r.n == 0 && strcmp(r.error_message, "") == 0, "heartbeat: null is an empty list");
	hb_free(&r);
	is_str(hb_err("{\"errorMessage\":\"\",\"desiredAgents\":[{\"name\":\"falcon-agent\",\"version\":"
	    "\"1.0.1\",\"tarball\":\"http://h/f\",\"md5\":\"\",\"cmd\":\"start\"},{\"name\":\"d\","
	    "\"version\":\"\",\"tarball\":\"\",\"md5\":\"\",\"cmd\":\"stop\"}]}", &r), "",
	    "heartbeat: a response parses");
	ok(r.n == 2 && strcmp(r.agents[0].version, "1.0.1") == 0 && r.agents[0].invalid[0] == '\0' &&
	    r.agents[1].invalid[0] == '\0', "heartbeat: entries read; stop needs no version or URL");
	hb_free(&r);
	is_str(hb_err("{\"errorMessage\":\"busy\",\"desiredAgents\":null}", &r), "", "heartbeat: errorMessage");
	is_str(r.error_message, "busy", "heartbeat: errorMessage kept");
	hb_free(&r);

	is_str(hb_err("not json", &r), "response is not a JSON object", "heartbeat: not JSON");
	is_str(hb_err("[]", &r), "response is not a JSON object", "heartbeat: not an object");
	is_str(hb_err("{\"errorMessage\":5}", &r), "errorMessage is not a string", "heartbeat: errorMessage type");
	is_str(hb_err("{\"desiredAgents\":{}}", &r), "desiredAgents is not a list", "heartbeat: list type");

	hb_err("{\"desiredAgents\":[5,{\"name\":\"../../etc\",\"version\":\"1\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"version\":\"1/../../x\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"version\":\"1\",\"tarball\":\"file:///etc\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"version\":\"1\",\"tarball\":\"http://h\",\"md5\":\"gopher://x\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"version\":1,\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"b\",\"version\":\"1\",\"tarball\":\"http://h\",\"cmd\":\"reboot\"}]}", &r);
	ok(r.n == 7, "heartbeat: bad entries are kept, marked");
	is_str(r.agents[0].invalid, "entry 1 is not an object", "heartbeat: entry not an object");
	is_str(r.agents[1].invalid, "name '../../etc' is not a valid name ([A-Za-z0-9._-], no leading '.')",
	    "heartbeat: hostile name");
	is_str(r.agents[2].invalid, "version '1/../../x' is not a valid version ([A-Za-z0-9._-], no leading '.')",
	    "heartbeat: hostile version");
	is_str(r.agents[3].invalid, "tarball 'file:///etc' is not an http(s) URL", "heartbeat: file:// tarball");
	is_str(r.agents[4].invalid, "md5 'gopher://x' is not an http(s) URL", "heartbeat: bad md5 prefix");
	is_str(r.agents[5].invalid, "field 'version' is not a string", "heartbeat: wrong field type");
	is_str(r.agents[6].invalid, "", "heartbeat: an unknown cmd is not invalid (it is ignored later)");
	hb_free(&r);

	/* One name twice: every entry with it refused, whatever else it says. */
	hb_err("{\"desiredAgents\":[{\"name\":\"a\",\"version\":\"1.0.1\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"b\",\"version\":\"1\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"version\":\"1.0.2\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"A\",\"version\":\"1\",\"tarball\":\"http://h\",\"cmd\":\"start\"},"
	    "{\"name\":\"a\",\"cmd\":\"stop\"}]}", &r);
	ok(r.n == 5, "heartbeat: duplicates are kept, marked");
	is_str(r.agents[0].invalid, "name 'a' appears 3 times in desiredAgents", "heartbeat: duplicate name, first entry");
	is_str(r.agents[2].invalid, "name 'a' appears 3 times in desiredAgents", "heartbeat: duplicate name, second entry");
	is_str(r.agents[4].invalid, "name 'a' appears 3 times in desiredAgents", "heartbeat: duplicate name, a stop too");
	is_str(r.agents[1].invalid, "", "heartbeat: another name beside duplicates is valid");
	is_str(r.agents[3].invalid, "", "heartbeat: names differing in case are not duplicates");
	hb_free(&r);
	hb_err("{\"desiredAgents\":[{\"name\":\"a\\nb\",\"cmd\":\"stop\"},{\"name\":\"a\\nb\",\"cmd\":\"stop\"}]}", &r);
	ok(r.n == 2 && r.agents[1].invalid[0] != '\0', "heartbeat: an invalid name twice is refused too");
	hb_free(&r);
	{
		char body[1024], want[160];

		snprintf(body, sizeof(body), "{\"desiredAgents\":[{\"name\":\"%0100d\",\"cmd\":\"stop\"},"
		    "{\"name\":\"%0100d\",\"cmd\":\"stop\"}]}", 0, 0);
		hb_err(body, &r);
		snprintf(want, sizeof(want), "name '%040d' appears 2 times in desiredAgents", 0);
		is_str(r.agents[1].invalid, want, "heartbeat: a long duplicate name is cut to 40 bytes in the reason");
		hb_free(&r);
	}
}

/* Names the updater keeps for itself, with the log and metrics in or
 * below the work directory (spelt through "." and "..", and not made yet:
 * a directory an agent's install would create is kept too). */
static void
test_reserved(void)
{
	struct config c;
	char err[256], why[320];

	if (config_parse(&c, "{\"server\": \"h:1\", \"log\": \"./logs/../upd.log\", "
	    "\"metrics_file\": \"/w/ops/./prom/node/ops.prom\", \"workdir\": \"/w/ops/\"}",
	    "/w/ops", err, sizeof(err)) != 0) {
		ok(0, "reserved: config: %s", err);
		return;
	}
	ok(hb_reserved(&c, "ops-updater", why, sizeof(why)) &&
	    strstr(why, "the updater is not an agent") != NULL, "reserved: ops-updater itself");
	ok(hb_reserved(&c, "ops-updater.state.json", why, sizeof(why)) &&
	    hb_reserved(&c, "ops-updater-2", why, sizeof(why)) &&
	    strstr(why, "names starting with 'ops-updater'") != NULL, "reserved: what starts with ops-updater");
	ok(hb_reserved(&c, "upd.log", why, sizeof(why)) && strstr(why, "its log") != NULL,
	    "reserved: the log in the work directory");
	ok(hb_reserved(&c, "upd.log.1", why, sizeof(why)) && strstr(why, "rotates its log") != NULL,
	    "reserved: the log's .1");
	ok(hb_reserved(&c, "prom", why, sizeof(why)) && strstr(why, "its metrics") != NULL,
	    "reserved: the directory of the work directory that holds the metrics");
	ok(!hb_reserved(&c, "node", why, sizeof(why)) && !hb_reserved(&c, "logs", why, sizeof(why)) &&
	    !hb_reserved(&c, "upd", why, sizeof(why)) && !hb_reserved(&c, "pro", why, sizeof(why)) &&
	    !hb_reserved(&c, "ops-update", why, sizeof(why)) && !hb_reserved(&c, "falcon-agent", why, sizeof(why)),
	    "reserved: nothing else");
	config_free(&c);
	if (config_parse(&c, "{\"server\": \"h:1\", \"log\": \"/var/log/ops.log\", "
	    "\"metrics_file\": \"/w/opsx/ops.prom\"}", "/w/ops", err, sizeof(err)) != 0) {
		ok(0, "reserved: config: %s", err);
		return;
	}
	ok(!hb_reserved(&c, "ops.log", why, sizeof(why)) && !hb_reserved(&c, "ops.prom", why, sizeof(why)) &&
	    !hb_reserved(&c, "opsx", why, sizeof(why)), "reserved: files outside the work directory keep no name");
	config_free(&c);
}

/* Parse json, which must give 1 (damaged) with err starting with why and
 * n entries kept; the state in *st. */
static void
damaged(const char *json, const char *why, size_t n, struct pass_state *st)
{
	char err[256];
	int r = state_parse(json, strlen(json), st, err, sizeof(err));

	ok(r == 1 && strncmp(err, why, strlen(why)) == 0 && st->n == n, "state: damaged, salvaged: %s", why);
	if (r != 1 || strncmp(err, why, strlen(why)) != 0 || st->n != n)
		printf("# got %d, %zu entries: %s\n", r, st->n, r == 0 ? "" : err);
}

/* A damaged state file gives what it still holds: a hold is not lost to
 * a wrong field beside it, nor to a file cut short. */
static void
test_state_salvage(void)
{
	struct pass_state st, back;
	struct agent_state *a;
	char err[256], *text;
	size_t i, len;

	damaged("{\"format\":1,\"started\":5,\"agents\":[{\"name\":\"a\",\"result\":\"great\",\"held_version\":\"2\"}]}",
	    "an agent has an unknown result: 1 agent kept (1 with a field lost), 0 lost", 1, &st);
	ok(strcmp(st.agents[0].held_version, "2") == 0 && st.agents[0].result == STATE_NOTHING,
	    "state: an unknown result: the hold kept, the result nothing");
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"held\",\"error\":7,\"fails\":1.5,"
	    "\"held_version\":\"2\",\"retry_after\":99}]}", "a string field is not a string", 1, &st);
	ok(strcmp(st.agents[0].error, "") == 0 && st.agents[0].fails == 0 &&
	    strcmp(st.agents[0].held_version, "2") == 0 && st.agents[0].retry_after == 99,
	    "state: wrong fields left empty, the hold kept");
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"ok\"},{\"name\":\"a\",\"result\":\"ok\"},"
	    "{\"name\":\"../x\",\"result\":\"ok\"},7,{\"name\":\"b\",\"result\":\"ok\"}]}",
	    "an agent is listed twice: 2 agents kept (0 with a field lost), 3 lost", 2, &st);
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"ok\",\"trial_version\":\"../x\","
	    "\"trial_from\":\"1\",\"trial_tarball\":\"http://h/\"}]}", "a trial names an invalid version", 1, &st);
	ok(st.agents[0].trial_version[0] == '\0' && st.agents[0].trial_from[0] == '\0',
	    "state: an invalid trial is dropped");
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"ok\",\"probation_version\":\"1\","
	    "\"probation_from\":\"../x\",\"probation_at\":5,\"probation_deaths\":1}]}",
	    "a probation names an invalid version", 1, &st);
	ok(st.agents[0].probation_version[0] == '\0' && st.agents[0].probation_from[0] == '\0',
	    "state: a probation naming an invalid version is dropped");
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"ok\",\"probation_version\":\"1\","
	    "\"probation_deaths\":-1}]}", "a number field is not a whole number in range", 1, &st);
	ok(st.agents[0].probation_deaths == 0, "state: a negative count of deaths is none");
	state_free(&st);
	damaged("{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"ok\",\"gone_version\":\"..\","
	    "\"gone_at\":5}]}", "gone_version names an invalid version", 1, &st);
	ok(st.agents[0].gone_version[0] == '\0', "state: a removed version with an invalid name is dropped");
	state_free(&st);

	/* Cut short (a full disk, an older writer's file read in part): each
	 * whole entry before the cut, and the pass before "agents". */
	memset(&st, 0, sizeof(st));
	st.started = 1732470000;
	st.exit_code = 1;
	for (i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "a%zu", i);
		a = state_get(&st, name);
		state_set(&a->held_version, "9");
		a->result = STATE_HELD;
	}
	text = state_to_json(&st, NULL);
	state_free(&st);
	len = (size_t)(strstr(text, "\"a2\"") - text);
	is_str(state_parse(text, len, &back, err, sizeof(err)) == 1 ? err : "not 1",
	    "not a whole JSON object: 2 agents kept (0 with a field lost), at least 1 lost",
	    "state: cut in the third entry: the first two kept");
	ok(back.n == 2 && strcmp(back.agents[1].held_version, "9") == 0 && back.started == 1732470000 &&
	    back.exit_code == 1, "state: with their holds and the pass");
	state_free(&back);
	len = (size_t)(strstr(text, "\"agents\"") - text) + 16;
	ok(state_parse(text, len, &back, err, sizeof(err)) == 1 && back.n == 0 && back.started == 1732470000,
	    "state: cut before the first entry: the pass kept");
	state_free(&back);
	free(text);

	/* Bytes outside printable ASCII (an older file, a hand edit) are
	 * escaped as the log shows them: the file stays ASCII JSON. */
	text = "{\"format\":1,\"agents\":[{\"name\":\"a\",\"result\":\"failed\",\"error\":\"1.0\xff\xfe\x1b[2J\","
	    "\"version\":\"\\u00ff\"}]}";
	ok(state_parse(text, strlen(text), &st, err, sizeof(err)) == 0 &&
	    strcmp(st.agents[0].error, "1.0\\xff\\xfe\\x1b[2J") == 0 && strcmp(st.agents[0].version, "\\xc3\\xbf") == 0,
	    "state: raw bytes read are escaped");
	state_free(&st);
}

/* What is written is bounded and always read back whole. */
static void
test_state_bounds(void)
{
	struct pass_state st = { 0 }, back;
	struct agent_state *a;
	char err[256], *text, *junk = xcalloc(1, 6001);
	size_t i, out, held = 0;

	memset(junk, 0xff, 6000);
	for (i = 0; i < 12000; i++) {
		char name[16];

		snprintf(name, sizeof(name), "a%05zu", i);
		a = state_get(&st, name);
		state_set(&a->cmd, junk);
		state_set(&a->error, junk);
		if (i % 1000 == 999) {
			state_set(&a->held_version, "2");
			a->result = STATE_HELD;
		}
	}
	text = state_to_json(&st, &out);
	ok(strlen(text) <= STATE_WRITE_MAX, "state: 12000 entries of long junk: written within 2 MiB (%zu)",
	    strlen(text));
	i = (size_t)state_parse(text, strlen(text), &back, err, sizeof(err));
	ok(i == 0 && back.n == 12000 - out && back.n >= 12 && back.n <= STATE_AGENTS_WRITE,
	    "state: and read back whole (%zu entries)", back.n);
	for (i = 0; i < back.n; i++)
		held += back.agents[i].held_version[0] != '\0';
	ok(held == 12, "state: every hold kept first (%zu of 12)", held);
	ok(strlen(back.agents[0].error) == STATE_TEXT_MAX && strlen(back.agents[0].cmd) == STATE_WORD_MAX,
	    "state: an error cut to 1024 bytes, a cmd to 320");
	free(text);
	state_free(&back);

	/* A reader takes at most 10000 entries of an older writer's file. */
	for (i = 0; i < st.n; i++) {
		state_set(&st.agents[i].cmd, "");
		state_set(&st.agents[i].error, "");
	}
	{
		struct buf b = { 0 };

		buf_add(&b, "{\"format\":1,\"agents\":[", 22);
		for (i = 0; i < st.n; i++) {
			char e[64];
			int n = snprintf(e, sizeof(e), "%s{\"name\":\"%s\",\"result\":\"ok\"}", i ? "," : "",
			    st.agents[i].name);

			buf_add(&b, e, (size_t)n);
		}
		buf_add(&b, "]}", 2);
		ok(state_parse(b.data, b.len, &back, err, sizeof(err)) == 1 && back.n == STATE_AGENTS_MAX,
		    "state: 12000 entries read: the first 10000 kept");
		is_str(err, "more than 10000 agents: 10000 agents kept (0 with a field lost), 2000 lost",
		    "state: and the rest said lost");
		state_free(&back);
		buf_free(&b);
	}
	state_free(&st);
	free(junk);
}

/* What ends a hold: a change in what the server publishes. */
static void
test_evidence(void)
{
	struct evidence was = { .md5 = "sha256:aa", .sha256 = "absent", .sig = "",
		.tarball = "etag \"1\"; last-modified -; length 9" }, now = was;
	struct fetch_validators v = { .etag = "W/\"x\"", .modified = "", .length = 7 };
	struct buf b = { 0 };
	char why[1024];

	ok(evidence_changed(&was, &now, why, sizeof(why)) == NULL, "evidence: the same: nothing changed");
	strcpy(now.sig, "sha256:bb");
	ok(evidence_changed(&was, &now, why, sizeof(why)) == NULL, "evidence: what was not seen is not compared");
	strcpy(now.sha256, "sha256:cc");
	is_str(evidence_changed(&was, &now, why, sizeof(why)), "its .sha256 is published now",
	    "evidence: a file published since");
	now = was;
	strcpy(now.md5, "absent");
	is_str(evidence_changed(&was, &now, why, sizeof(why)), "its .md5 is gone", "evidence: a file gone");
	now = was;
	strcpy(now.tarball, "etag \"2\"; last-modified -; length 9");
	is_str(evidence_changed(&was, &now, why, sizeof(why)),
	    "its tarball changed (etag \"2\"; last-modified -; length 9, was etag \"1\"; last-modified -; length 9)",
	    "evidence: the tarball's validators");
	strcpy(now.tarball, "etag \"1\"; last-modified -; length -1");
	ok(evidence_changed(&was, &now, why, sizeof(why)) == NULL,
	    "evidence: a validator one answer left out (a HEAD without length) is not compared");
	strcpy(now.tarball, "etag -; last-modified Sat, 28 Nov 2026 08:25:59 GMT; length 8");
	ok(evidence_changed(&was, &now, why, sizeof(why)) != NULL, "evidence: one both name differs: changed");
	strcpy(was.tarball, "etag \"1\"; last-modified Sat, 28 Nov 2026 08:25:59 GMT; length 9");
	strcpy(now.tarball, "etag \"1\"; last-modified Sun, 29 Nov 2026 08:25:59 GMT; length 9");
	ok(evidence_changed(&was, &now, why, sizeof(why)) == NULL,
	    "evidence: Last-Modified alone is no evidence of new bytes");
	strcpy(was.tarball, "etag \"1\"; last-modified -; length 9");
	strcpy(now.tarball, "etag \"1; length 9");
	ok(evidence_changed(&was, &now, why, sizeof(why)) != NULL, "evidence: validators not so made: compared whole");
	evidence_tarball(&now, &v, 200);
	is_str(now.tarball, "etag W/\"x\"; last-modified -; length 7", "evidence: validators as stored");
	evidence_tarball(&now, &v, 410);
	is_str(now.tarball, "absent", "evidence: a 410 is absent");
	evidence_tarball(&now, &(struct fetch_validators){ .length = -1 }, 503);
	is_str(now.tarball, "", "evidence: a 503 says nothing");
	buf_add(&b, "abc", 3);
	evidence_file(now.md5, 0, 200, &b);
	is_str(now.md5, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "evidence: a file's bytes as their SHA-256");
	evidence_file(now.md5, -1, 0, &b);
	ok(now.md5[0] == '\0' && !evidence_known(&(struct evidence){ 0 }), "evidence: no answer says nothing");
	buf_free(&b);
}

static void
test_state(void)
{
	struct pass_state st = { 0 }, back;
	struct agent_state *a;
	char err[128], *text, *again;

	ok(state_backoff(3600, 1) == 3600 && state_backoff(3600, 2) == 7200 &&
	    state_backoff(3600, 3) == 14400, "state: the hold doubles per failure");
	ok(state_backoff(3600, 100) == 86400 && state_backoff(86400, 2) == 86400,
	    "state: the hold is at most 24 h");
	ok(state_backoff(0, 5) == 0, "state: retry_failed 0 holds nothing");
	{
		struct agent_state h = { .held_fails = 2, .failed_at = 1000, .retry_after = 1000 + 7200 };

		ok(state_hold_until(&h, 3600, 2000) == 8200, "state: a hold ends at its retry_after");
		h.failed_at = 900000;
		h.retry_after = 900000 + 7200;
		ok(state_hold_until(&h, 3600, 2000) == 2000 + 7200,
		    "state: a hold from the future (the clock set back) lasts its backoff from now, no more");
		ok(state_hold_until(&h, 60, 2000) == 2000 + 120, "state: and a shorter retry_failed shortens it");
	}

	st.started = 1732470000;
	st.duration_ms = 1234;
	st.exit_code = 1;
	a = state_get(&st, "falcon-agent");
	ok(state_get(&st, "falcon-agent") == a && st.n == 1, "state: one entry per name");
	state_set(&a->version, "1.0.1");
	state_set(&a->error, "GET http://h/f: HTTP 404\n\"x\"");
	a->result = STATE_HELD;
	a->fails = 2;
	a->held_fails = 2;
	a->retry_after = 1732477200;
	state_set(&a->held_version, "1.0.1");
	state_set(&a->trial_version, "1.0.2");
	state_set(&a->trial_from, "1.0.0");
	state_set(&a->trial_tarball, "http://h/f");
	a->trial_started = 1732470001;
	state_set(&st.metrics_error, "metrics not written to /m/x.prom: No space left on device");
	state_heartbeat(&st, "", 1732469000);
	ok(st.heartbeat.fails == 0 && st.heartbeat.ok_at == 1732469000 && strcmp(st.heartbeat.error, "") == 0,
	    "state: a good heartbeat: its time");
	state_heartbeat(&st, "POST x: HTTP 500", 1732469300);
	state_heartbeat(&st, "POST x: timed out", 1732469600);
	ok(st.heartbeat.fails == 2 && st.heartbeat.fail_since == 1732469300 && st.heartbeat.ok_at == 1732469000 &&
	    strcmp(st.heartbeat.error, "POST x: timed out") == 0,
	    "state: failed heartbeats: counted from the first, the last error, the last success kept");
	{
		struct pass_state next = { 0 };

		state_begin(&next, &st);
		ok(next.heartbeat.fails == 2 && next.heartbeat.error != st.heartbeat.error &&
		    strcmp(next.heartbeat.error, "POST x: timed out") == 0,
		    "state: the next pass starts from the last one's heartbeats (a copy)");
		state_heartbeat(&next, "", 1732469900);
		ok(next.heartbeat.fails == 0 && next.heartbeat.fail_since == 0 && next.heartbeat.ok_at == 1732469900 &&
		    next.heartbeat.error[0] == '\0', "state: a good heartbeat clears the run");
		state_free(&next);
	}
	text = state_to_json(&st, NULL);
	is_str(state_parse(text, strlen(text), &back, err, sizeof(err)) == 0 ? "" : err, "",
	    "state: what is written parses");
	ok(back.heartbeat.fails == 2 && back.heartbeat.fail_since == 1732469300 &&
	    back.heartbeat.ok_at == 1732469000 && strcmp(back.heartbeat.error, "POST x: timed out") == 0,
	    "state: the heartbeat reads back");
	is_str(back.metrics_error, "metrics not written to /m/x.prom: No space left on device",
	    "state: the metrics error reads back");
	again = state_to_json(&back, NULL);
	is_str(again, text, "state: and reads back the same");
	ok(back.n == 1 && strcmp(back.agents[0].trial_version, "1.0.2") == 0 &&
	    strcmp(back.agents[0].trial_from, "1.0.0") == 0 && back.agents[0].trial_started == 1732470001,
	    "state: a trial reads back");
	free(again);
	free(text);
	state_free(&back);
	state_free(&st);

#define BAD(json, why) do { \
	is_str(state_parse(json, strlen(json), &back, err, sizeof(err)) == -1 ? err : "parsed", why, \
	    "state: refused: " why); \
	ok(back.n == 0 && back.agents == NULL, "state: refused leaves it empty"); \
} while (0)
	BAD("[]", "not a JSON object");
	BAD("{\"format\":2,\"agents\":[]}", "not format 1");
	BAD("{\"format\":1,\"heartbeat_fails\":-1,\"agents\":[]}", "a number field is not a whole number in range");
	BAD("{\"format\":1,\"heartbeat_error\":5,\"agents\":[]}", "a string field is not a string");
	BAD("{\"format\":1,\"metrics_error\":[],\"agents\":[]}", "a string field is not a string");
	BAD("{\"format\":1,\"started\":-1,\"agents\":[]}", "a number field is not a whole number in range");
	BAD("{\"format\":1}", "agents is not a list");
	BAD("{\"format\":1,\"agents\":[{\"name\":\"../x\",\"result\":\"ok\"}]}", "an agent has no valid name");
	BAD("{\"form", "not a whole JSON object");
#undef BAD
	test_state_salvage();
	test_state_bounds();
}

/* StrictModes on a stat: owner, group and other write bits, type. */
static void
test_trust(void)
{
	struct stat st = { .st_mode = S_IFDIR | 0755, .st_uid = 0 };
	char why[128];

	ok(trust_stat(&st, S_IFDIR, why, sizeof(why)) == 0, "trust: root's 0755 directory");
	st.st_uid = geteuid();
	ok(trust_stat(&st, 0, why, sizeof(why)) == 0, "trust: ours, any type");
	st.st_uid = 65534;
	ok(trust_stat(&st, S_IFDIR, why, sizeof(why)) == -1 && strstr(why, "owned by uid 65534") != NULL,
	    "trust: someone else's is refused");
	st.st_uid = 0;
	st.st_mode = S_IFREG | 0775;
	ok(trust_stat(&st, S_IFREG, why, sizeof(why)) == -1 && strcmp(why, "writable by group (mode 0775)") == 0,
	    "trust: group-writable is refused");
	st.st_mode = S_IFDIR | 01777;
	ok(trust_stat(&st, S_IFDIR, why, sizeof(why)) == -1 && strcmp(why, "writable by others (mode 1777)") == 0,
	    "trust: other-writable, even sticky, is refused");
	st.st_mode = S_IFLNK | 0777;
	ok(trust_stat(&st, 0, why, sizeof(why)) == -1 && strcmp(why, "is a symlink") == 0,
	    "trust: a symlink is refused");
	st.st_mode = S_IFREG | 0755;
	ok(trust_stat(&st, S_IFDIR, why, sizeof(why)) == -1 && strcmp(why, "is not a directory") == 0,
	    "trust: the wrong type is refused");
	/* Above a path: as trust_stat, but root's sticky directory (/tmp)
	 * passes; nobody else's. */
	st.st_mode = S_IFDIR | 01777;
	st.st_uid = 0;
	ok(trust_dir_stat(&st, why, sizeof(why)) == 0, "trust above: root's sticky 1777 passes");
	st.st_uid = 65534;
	ok(trust_dir_stat(&st, why, sizeof(why)) == -1 && strstr(why, "owned by uid 65534") != NULL,
	    "trust above: someone else's sticky 1777 is refused");
	st.st_uid = 0;
	st.st_mode = S_IFDIR | 0777;
	ok(trust_dir_stat(&st, why, sizeof(why)) == -1 && strcmp(why, "writable by others (mode 0777)") == 0,
	    "trust above: root's 0777 without the sticky bit is refused");
	st.st_mode = S_IFDIR | 0775;
	ok(trust_dir_stat(&st, why, sizeof(why)) == -1 && strcmp(why, "writable by group (mode 0775)") == 0,
	    "trust above: group-writable is refused");
	st.st_mode = S_IFDIR | 0755;
	ok(trust_dir_stat(&st, why, sizeof(why)) == 0, "trust above: root's 0755 passes");
}

/* trust_path on a real tree under a fresh directory of ours in /tmp. */
static void
test_trust_path(void)
{
	char top[] = "/tmp/ops-updater-unit.XXXXXX", why[512], *p, *res = NULL;
	int r;

	if (mkdtemp(top) == NULL) {
		ok(0, "trust_path: mkdtemp: %s", strerror(errno));
		return;
	}
	p = xasprintf("cd %s && mkdir -p a/b u && chmod 755 . a a/b u && echo x >a/b/f && "
	    "chmod 644 a/b/f && ln -s a/b lb && ln -s ../a u/up", top);
	r = system(p);
	ok(r == 0, "trust_path: a test tree");
	free(p);

	p = xasprintf("%s/a/b/f", top);
	ok(trust_path(p, S_IFREG, &res, why, sizeof(why)) == 0 && res != NULL && strcmp(res, p) == 0,
	    "trust_path: a file of ours in directories of ours: %s", why);
	free(res);
	free(p);
	p = xasprintf("%s/a/./../lb/f", top);
	res = NULL;
	r = trust_path(p, S_IFREG, &res, why, sizeof(why));
	free(p);
	p = xasprintf("%s/a/b/f", top);
	ok(r == 0 && res != NULL && strcmp(res, p) == 0, "trust_path: through a symlink of ours, . and ..: %s",
	    res ? res : why);
	free(res);
	free(p);
	p = xasprintf("%s/a/b/f", top);
	ok(trust_path(p, S_IFDIR, NULL, why, sizeof(why)) == -1 && strstr(why, "is not a directory") != NULL,
	    "trust_path: the wrong type: %s", why);
	free(p);
	p = xasprintf("%s/a/nothing", top);
	ok(trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1 && errno == ENOENT,
	    "trust_path: a missing one says ENOENT");
	free(p);

	/* Someone else's directory above. */
	p = xasprintf("%s/a", top);
	r = chown(p, 65534, 65534);
	free(p);
	p = xasprintf("%s/a/b/f", top);
	ok(r == 0 && trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1 && errno == EPERM &&
	    strstr(why, "/a: owned by uid 65534, not root or uid") != NULL,
	    "trust_path: a directory above of uid 65534 is named: %s", why);
	free(p);
	p = xasprintf("%s/u/up/b/f", top);
	ok(trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1 && strstr(why, "/a: owned by uid 65534") != NULL,
	    "trust_path: also where a symlink leads: %s", why);
	free(p);
	p = xasprintf("%s/a", top);
	r = chown(p, 0, 0) | chmod(p, 0775);
	free(p);
	p = xasprintf("%s/a/b/f", top);
	ok(r == 0 && trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1 &&
	    strstr(why, "/a: writable by group (mode 0775)") != NULL,
	    "trust_path: a group-writable directory above: %s", why);
	free(p);
	p = xasprintf("%s/a", top);
	r = chmod(p, 01777);
	free(p);
	p = xasprintf("%s/a/b/f", top);
	ok(r == 0 && trust_path(p, S_IFREG, NULL, why, sizeof(why)) == 0,
	    "trust_path: root's sticky 1777 above passes: %s", why);
	free(p);
	p = xasprintf("%s/a/b", top);
	ok(trust_above(p, NULL, why, sizeof(why)) == 0, "trust_above: the same directory passes");
	free(p);
	p = xasprintf("%s/a", top);
	ok(trust_above(p, NULL, why, sizeof(why)) == 0 && trust_path(p, S_IFDIR, NULL, why, sizeof(why)) == -1,
	    "trust_above passes root's sticky one itself, trust_path does not");
	free(p);
	/* Another's symlink in a sticky directory leads nowhere. */
	p = xasprintf("%s/a/ln", top);
	r = symlink("b", p) | lchown(p, 65534, 65534);
	free(p);
	p = xasprintf("%s/a/ln/f", top);
	ok(r == 0 && trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1 &&
	    strstr(why, "a symlink owned by uid 65534 in a directory others can write") != NULL,
	    "trust_path: uid 65534's symlink in a sticky directory is refused: %s", why);
	free(p);
	p = xasprintf("%s/a/ln/../ln/f", top);
	ok(trust_path(p, S_IFREG, NULL, why, sizeof(why)) == -1, "trust_path: also after ..");
	free(p);
	p = xasprintf("rm -rf %s", top);
	r = system(p);
	free(p);
}

/* A last pass with hostile names, versions and statuses, as the server
 * and agents' control scripts could make them; t/0340-metrics.t parses
 * metrics_format's text of it with a real Prometheus parser. */
static char long_a[10241], long_bs[10241];
static struct agent_state sample_agents[] = {
	{ .name = "falcon-agent", .version = "1.0.1", .cmd = "start", .held_version = "",
	  .restarts = 1, .restarts_total = 4, .result = STATE_OK },
	{ .name = "ev\"il\\na\nme", .version = "2.0\n\"x\"", .cmd = "st\\op", .fails = 3,
	  .held_version = "2.0\n\"x\"", .probation_version = "2.0\n\"x\"", .probation_deaths = 2,
	  .probation_failures = 1, .result = STATE_HELD },
	{ .name = long_a, .version = long_bs, .cmd = "", .fails = 7, .held_version = "", .result = STATE_CUT },
	{ .name = "falcon-agent", .version = "9.9.9", .cmd = "stop", .fails = 9, .held_version = "9" },
	{ .name = NULL, .version = NULL, .cmd = NULL, .held_version = NULL },
};
static struct pass_state sample_state = {
	.started = 1700000000, .duration_ms = 1234, .exit_code = 1, .agents = sample_agents, .n = 5,
	.heartbeat = { .error = "POST http://h/heartbeat: HTTP 500", .fails = 2, .fail_since = 1699999000,
	    .ok_at = 1699998000 },
};
static struct real_agent sample_real[] = {
	{ .name = "falcon-agent", .version = "1.0.0", .status = "started" },
	{ .name = "weird", .version = "1.0", .status = "l1\nl2 \"q\" \\ \x01\t\x7f \xff \xc3\xa9 \xed\xa0\x80 \xe2\x82" },
};

static void
sample_init(void)
{
	memset(long_a, 'A', sizeof(long_a) - 1);
	memset(long_bs, '\\', sizeof(long_bs) - 1);
}

/* How many lines of text start with prefix. */
static int
count_lines(const char *text, const char *prefix)
{
	const char *p = text;
	int n = 0;

	while (*p != '\0') {
		n += strncmp(p, prefix, strlen(prefix)) == 0;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return n;
}

/* Every line a HELP, a TYPE or a sample of the family last typed; no
 * control bytes but the line ends; the text ends in a newline. */
static int
well_formed(const char *text)
{
	char fam[128] = "";
	const char *p = text, *end;

	for (; *p != '\0'; p = end + 1) {
		const char *q;

		if ((end = strchr(p, '\n')) == NULL)
			return 0;
		for (q = p; q < end; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				return 0;
		if (strncmp(p, "# HELP ops_updater_", 19) == 0)
			continue;
		if (sscanf(p, "# TYPE %127s gauge", fam) == 1 || sscanf(p, "# TYPE %127s counter", fam) == 1)
			continue;
		if (fam[0] == '\0' || strncmp(p, fam, strlen(fam)) != 0 ||
		    (p[strlen(fam)] != '{' && p[strlen(fam)] != ' '))
			return 0;
	}
	return 1;
}

static char *
escaped(const char *s)
{
	struct buf b = { 0 };

	metrics_escape(&b, s);
	return b.data ? b.data : xstrdup("");
}

static void
test_metrics(void)
{
	char *t, *e, want[1024];

	is_str(e = escaped("a\\b\"c\nd"), "a\\\\b\\\"c\\nd", "metrics: \\, \" and newline escaped");
	free(e);
	is_str(e = escaped("\x01\t\r\x7f\xff\xc0\xaf|\xc3\xa9\xe2\x82\xac|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82"),
	    "???????|\xc3\xa9\xe2\x82\xac|???|????|??",
	    "metrics: control bytes and invalid UTF-8 become '?', valid UTF-8 stays");
	free(e);
	sample_init();
	e = escaped(long_a);
	ok(strlen(e) == METRICS_LABEL_MAX + 3 && strspn(e, "A") == METRICS_LABEL_MAX &&
	    strcmp(e + METRICS_LABEL_MAX, "...") == 0, "metrics: a 10 KB value cut, ending in ...");
	free(e);
	e = escaped(long_bs);
	ok(strlen(e) == 2 * METRICS_LABEL_MAX + 3 && strspn(e, "\\") == 2 * METRICS_LABEL_MAX,
	    "metrics: 10 KB of backslashes: %d source bytes kept, each escaped", METRICS_LABEL_MAX);
	free(e);
	e = escaped("\xc3\xa9");
	ok(strcmp(e, "\xc3\xa9") == 0, "metrics: a 2-byte character kept whole");
	free(e);

	t = metrics_format(&sample_state, sample_real, 2);
	ok(well_formed(t), "metrics: every line HELP, TYPE or a sample of the family just typed");
	ok(count_lines(t, "# HELP ") == 18 && count_lines(t, "# TYPE ") == 18, "metrics: 18 families, each once");
	ok(strstr(t, "\nops_updater_heartbeat_success 0\n") &&
	    strstr(t, "\nops_updater_heartbeat_last_success_timestamp_seconds 1699998000\n") &&
	    strstr(t, "\nops_updater_heartbeat_failures 2\n"),
	    "metrics: the heartbeat failed twice in a row; when it last worked");
	ok(strstr(t, "\nops_updater_build_info{version=\"" OPS_UPDATER_VERSION "\"} 1\n") != NULL,
	    "metrics: the updater's own version");
	ok(strstr(t, "\n# TYPE ops_updater_agent_restarts_total counter\n") &&
	    strstr(t, "\nops_updater_agent_restarts_total{name=\"falcon-agent\"} 4\n") &&
	    strstr(t, "\nops_updater_agent_restarts_total{name=\"ev\\\"il\\\\na\\nme\"} 0\n"),
	    "metrics: restarts, a counter");
	ok(strstr(t, "\nops_updater_last_pass_timestamp_seconds 1700000000\n") &&
	    strstr(t, "\nops_updater_last_pass_duration_seconds 1.234\n") &&
	    strstr(t, "\nops_updater_last_pass_exit_code 1\n"), "metrics: the pass's time, duration, exit code");
	ok(strstr(t, "\nops_updater_agent_info{name=\"falcon-agent\",version=\"1.0.0\",status=\"started\"} 1\n") != NULL,
	    "metrics: the real agent's version and status");
	ok(strstr(t, "\nops_updater_agent_info{name=\"weird\",version=\"1.0\",status=\"l1\\nl2 \\\"q\\\" \\\\ ??? ? \xc3\xa9 ??? ??\"} 1\n") != NULL,
	    "metrics: a hostile status escaped");
	ok(strstr(t, "\nops_updater_agent_desired_info{name=\"falcon-agent\",version=\"1.0.1\",cmd=\"start\"} 1\n") &&
	    strstr(t, "\nops_updater_agent_failures{name=\"falcon-agent\"} 0\n") &&
	    strstr(t, "\nops_updater_agent_held{name=\"falcon-agent\",version=\"\"} 0\n") &&
	    strstr(t, "\nops_updater_agent_verdict{name=\"falcon-agent\",version=\"1.0.1\",verdict=\"ok\"} 1\n"),
	    "metrics: desired version, failures, not held, its verdict");
	ok(strstr(t, "\nops_updater_agent_desired_info{name=\"ev\\\"il\\\\na\\nme\",version=\"2.0\\n\\\"x\\\"\",cmd=\"st\\\\op\"} 1\n") &&
	    strstr(t, "\nops_updater_agent_failures{name=\"ev\\\"il\\\\na\\nme\"} 3\n") &&
	    strstr(t, "\nops_updater_agent_held{name=\"ev\\\"il\\\\na\\nme\",version=\"2.0\\n\\\"x\\\"\"} 1\n") &&
	    strstr(t, "\nops_updater_agent_verdict{name=\"ev\\\"il\\\\na\\nme\",version=\"2.0\\n\\\"x\\\"\",verdict=\"held\"} 1\n"),
	    "metrics: hostile names and versions escaped; failures; held, its verdict");
	snprintf(want, sizeof(want), "\nops_updater_agent_failures{name=\"%.200s...\"} 7\n", long_a);
	ok(strstr(t, want) != NULL, "metrics: a 10 KB name cut to %d bytes", METRICS_LABEL_MAX);
	ok(count_lines(t, "ops_updater_agent_failures{name=\"falcon-agent\"}") == 1 &&
	    count_lines(t, "ops_updater_agent_desired_info{name=\"falcon-agent\"") == 1,
	    "metrics: a name the server sent twice gives one series (the first)");
	ok(count_lines(t, "ops_updater_agent_failures{name=\"\"} 0") == 1, "metrics: NULL strings are empty");
	ok(strlen(t) < 16384, "metrics: the text stays small (%zu bytes)", strlen(t));
	free(t);

	t = metrics_format(NULL, NULL, 0);
	ok(well_formed(t) && count_lines(t, "# HELP ") == 2 && count_lines(t, "ops_updater_") == 1 &&
	    count_lines(t, "ops_updater_build_info{") == 1,
	    "metrics: no pass state, no agents: an empty family and the version");
	free(t);
}

/* Write the checksum of the tar header at b. */
static void
resum(unsigned char *b)
{
	unsigned sum = 0;

	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

/* A tar header block at b: name, type, size (octal, or base-256 when b256). */
static unsigned char *
th(unsigned char *b, const char *name, char type, unsigned long long size, int b256)
{
	memset(b, 0, 512);
	memcpy(b, name, strlen(name));
	memcpy(b + 100, "0000644", 8);
	if (b256) {
		b[124] = 0x80;
		for (int i = 11; i >= 4; i--, size >>= 8)
			b[124 + i] = (unsigned char)(size & 0xff);
	} else
		snprintf((char *)b + 124, 12, "%011llo", size & 077777777777ULL);
	b[156] = (unsigned char)type;
	memcpy(b + 257, "ustar  ", 8);
	resum(b);
	return b;
}

static const unsigned char ts_key[TARSTREAM_KEY] = "0123456789abcdef";
static long long ts_dirs;
static int ts_sparse, ts_overlong;

/* Feed the stream at p whole, byte by byte and in 7-byte and 1000-byte
 * chunks; the members counted (the rest in ts_*), or -1 when the splits
 * disagree. */
static long long
ts_count(const unsigned char *p, size_t n, int *ended)
{
	static const size_t step[] = { 0, 1, 7, 1000 };
	long long got = -2;

	for (size_t s = 0; s < sizeof(step) / sizeof(step[0]); s++) {
		struct tarstream ts;
		size_t k = step[s] ? step[s] : n;

		tarstream_init(&ts, ts_key);
		for (size_t off = 0; off < n; off += k)
			tarstream_feed(&ts, p + off, n - off < k ? n - off : k);
		if (got != -2 && (ts.members != got || ts.ended != *ended || ts.dirs != ts_dirs ||
		    ts.sparse != ts_sparse || ts.overlong != ts_overlong)) {
			tarstream_free(&ts);
			return -1;
		}
		got = ts.members;
		*ended = ts.ended;
		ts_dirs = ts.dirs;
		ts_sparse = ts.sparse;
		ts_overlong = ts.overlong;
		tarstream_free(&ts);
	}
	return got;
}

/* A pax or GNU long-name extension header of type type and its data. */
static unsigned char *
th_ext(unsigned char *p, char type, const char *data, size_t n)
{
	th(p, type == 'L' ? "././@LongLink" : "PaxHeader", type, n, 0);
	memset(p + 512, 0, (n + 511) / 512 * 512);
	memcpy(p + 512, data, n);
	return p + 512 + (n + 511) / 512 * 512;
}

/* A pax record "LEN key=value\n" into buf. */
static size_t
pax(char *buf, size_t cap, const char *kv)
{
	size_t n = strlen(kv) + 3, len;

	for (;;) {	/* the length counts its own digits */
		len = (size_t)snprintf(buf, cap, "%zu %s\n", n, kv);
		if (len == n)
			return len;
		n = len;
	}
}

/* A block tar takes for a header only when its checksum field is read
 * as GNU tar reads it: six digits and 'x' is no header to tar. */
static void
untar(unsigned char *b)
{
	b[154] = 'x';
}

/* Random data reads as a header now and then (about once in 150,000
 * blocks, mostly a small signed sum): a refusal only where tar reads a
 * header, and everywhere once the walk cannot follow tar. */
static void
test_tarstream_walk(void)
{
	static unsigned char a[16 * 512];
	char rec[512];
	unsigned char *p;
	size_t r;
	int ended;

	/* In a file's data: a sparse header, a too large extension header, a
	 * GNU.sparse record. Counted (the count errs safe), never judged. */
	p = a;
	th(p, "f", '0', 4 * 512, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	th(p, "PaxHeader", 'x', 1ULL << 40, 1), p += 512;
	r = pax(rec, sizeof(rec), "GNU.sparse.major=1");
	p = th_ext(p, 'x', rec, r);
	th(p, "g", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 3 && !ts_sparse && !ts_overlong,
	    "tarstream: what a file's data fakes is counted, and refuses nothing");
	/* The same where tar reads headers: refused. */
	p = a;
	th(p, "f", '0', 0, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_sparse, "tarstream: a sparse header where tar reads one");
	p = a;
	th(p, "f", '0', 512, 0), p += 512;
	memset(p, 'd', 512), p += 512;
	th(p, "PaxHeader", 'x', 1ULL << 40, 1), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_overlong,
	    "tarstream: after a file's data, the next header is judged");
	/* Zero blocks in a file's data do not end the walk. */
	p = a;
	th(p, "f", '0', 1024, 0), p += 512;
	memset(p, 0, 1024), p += 1024;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_sparse, "tarstream: zeros in data end nothing");
	/* Where the walk cannot be sure of tar, every header is judged: a
	 * symlink with a size (tar reads none for it), a pax size record. */
	p = a;
	th(p, "l", '2', 512, 0), p += 512;
	th(p, "f", '0', 1024, 0), p += 512;	/* a header to tar, or data? */
	th(p, "s", 'S', 0, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 4 && ts_sparse, "tarstream: after a symlink with a size, judged");
	/* The pax size is what tar takes, not the header's: here none. */
	r = pax(rec, sizeof(rec), "size=0");
	p = th_ext(a, 'x', rec, r);
	th(p, "f", '0', 1024, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 3 && ts_sparse, "tarstream: after a pax size record, judged");
	p = a;
	untar(th(p, "f", '0', 512, 0)), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(!tarstream_tar_header(a) && tarstream_is_header(a) && ts_count(a, (size_t)(p - a), &ended) == 2 &&
	    ts_sparse, "tarstream: a block tar refuses where it wants a header: it tries the next, so do we");
	/* Read as tar reads them (an outside attack on the walk): pax
	 * records with blanks around the length, a size field after a tab,
	 * a file whose name ends in '/' (a directory to tar, which reads no
	 * data for it), by its own name, a long name or a pax path. */
	p = th_ext(a, 'x', "22\tGNU.sparse.major=1\n", 22);
	th(p, "s", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_sparse, "tarstream: a pax record after a tab");
	p = th_ext(a, 'x', " 24  GNU.sparse.major=1\n", 24);
	th(p, "s", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_sparse, "tarstream: a pax record with blanks around its length");
	r = pax(rec, sizeof(rec), "GNU.sparse.major=1");
	p = th_ext(a, 'x', rec, r);
	snprintf((char *)a + 124, 12, "\t%010zo", r);
	resum(a);
	th(p, "s", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_sparse, "tarstream: a pax header whose size follows a tab");
	p = a;
	th(p, "d/", '0', 512, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_sparse, "tarstream: a file named d/ takes no data");
	p = th_ext(a, 'L', "d/", 3);
	th(p, "x", '0', 512, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_sparse, "tarstream: nor one whose long name is d/");
	r = pax(rec, sizeof(rec), "path=d/");
	p = th_ext(a, 'x', rec, r);
	th(p, "x", '0', 512, 0), p += 512;
	th(p, "s", 'S', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_sparse, "tarstream: nor one whose pax path is d/");
	/* A sparse header tar would not take is none, even where judged. */
	p = a;
	th(p, "f", '0', 0, 0), p += 512;
	untar(th(p, "s", 'S', 0, 0)), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && !ts_sparse, "tarstream: a sparse block tar refuses is none");
	/* tar reads a checksum field of NULs as 0, and a block whose signed
	 * sum is 0 is a header to it: counted and judged. */
	th(a, "n", 'S', 0, 0);
	memset(a + 148, 0, 8);
	{
		long ssum = 8 * ' ';
		int k = 511;

		for (int i = 0; i < 512; i++)
			if (i < 148 || i >= 156)
				ssum += (signed char)a[i];
		for (; ssum > 0; k--) {
			long d = ssum < 128 ? ssum : 128;

			a[k] = (unsigned char)(256 - d);
			ssum -= d;
		}
	}
	ok(tarstream_tar_header(a) && tarstream_is_header(a) && ts_count(a, 512, &ended) == 1 && ts_sparse,
	    "tarstream: a checksum of NULs and a signed sum of 0: a header");
}

static void
test_tarstream_dirs(void)
{
	static unsigned char a[256 * 512];
	char rec[512], longname[3000];
	unsigned char *p;
	size_t r;
	int ended;

	/* Every directory above a member counts once, however many members
	 * lie below it; "./" and a trailing slash make none. */
	p = a;
	th(p, "a/b/c/f", '0', 0, 0), p += 512;
	th(p, "a/b/d/g", '0', 0, 0), p += 512;
	th(p, "./a/b/c/h", '0', 0, 0), p += 512;
	th(p, "a/b/", '5', 0, 0), p += 512;
	th(p, "top", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 5 && ts_dirs == 4,
	    "tarstream: distinct directories above members: a, a/b, a/b/c, a/b/d");
	/* The same names under other parents are other directories. */
	p = a;
	th(p, "x/d/d/f", '0', 0, 0), p += 512;
	th(p, "y/d/d/f", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_dirs == 6, "tarstream: d/d under x and under y: 6");
	/* A POSIX ustar prefix is part of the name. */
	th(a, "r/f", '0', 0, 0);
	memcpy(a + 257, "ustar\0" "00", 8);
	memcpy(a + 345, "p/q", 3);
	resum(a);
	ok(ts_count(a, 512, &ended) == 1 && ts_dirs == 3, "tarstream: ustar prefix p/q and name r/f: 3 directories");
	/* A GNU long name: the directories of its name, the member's too. */
	for (r = 0; r + 2 < 2000; r += 2)
		memcpy(longname + r, "d/", 2);
	memcpy(longname + r, "f", 2);
	p = th_ext(a, 'L', longname, r + 2);
	th(p, "short", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_dirs == 999, "tarstream: a long name 999 levels deep: 999");
	/* A pax path record, after other records. */
	r = pax(rec, sizeof(rec), "mtime=1");
	r += pax(rec + r, sizeof(rec) - r, "path=m/n/o/f");
	p = th_ext(a, 'x', rec, r);
	th(p, "f", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_dirs == 3 && !ts_sparse, "tarstream: a pax path: 3");
	/* A fake pax header in a file's data does not hide the real one that
	 * follows within its claimed size. */
	p = a;
	th(p, "f", '0', 512, 0), p += 512;
	th(p, "fake", 'x', 8192, 0), p += 512;
	r = pax(rec, sizeof(rec), "path=s/t/u/v/f");
	p = th_ext(p, 'x', rec, r);
	th(p, "g", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && ts_dirs == 4,
	    "tarstream: a real pax header inside a fake one's claimed data is read");
	/* Sparse members: type S, or any GNU.sparse record. */
	th(a, "s", 'S', 0, 0);
	ok(ts_count(a, 512, &ended) == 1 && ts_sparse, "tarstream: type S is sparse");
	r = pax(rec, sizeof(rec), "GNU.sparse.major=1");
	p = th_ext(a, 'x', rec, r);
	th(p, "s", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ts_sparse, "tarstream: a GNU.sparse record is sparse");
	th(a, "plain", '0', 0, 0);
	ok(ts_count(a, 512, &ended) == 1 && !ts_sparse && !ts_overlong, "tarstream: a plain member is neither");
	/* An extension header too large to read is flagged. */
	th(a, "PaxHeader", 'x', TARSTREAM_EXT_MAX + 1, 0);
	ok(ts_count(a, 512, &ended) == 0 && ts_overlong, "tarstream: a pax header past the limit is flagged");
	th(a, "PaxHeader", 'x', 1ULL << 40, 1);
	ok(ts_count(a, 512, &ended) == 0 && ts_overlong, "tarstream: a huge base-256 size too");
	test_tarstream_walk();
}

static void
test_tarstream(void)
{
	static unsigned char a[64 * 512];
	unsigned char *p;
	int ended;

	/* Every block tar could take for a header counts, whatever sizes say:
	 * here a member whose 1000 bytes of data hide a header. */
	p = a;
	th(p, "f", '0', 1000, 0), p += 512;
	th(p, "hidden", '0', 0, 0), p += 1024;
	th(p, "g", '0', 0, 0), p += 512;
	memset(p, 0, 1024), p += 1024;
	ok(ts_count(a, (size_t)(p - a), &ended) == 3 && ended,
	    "tarstream: a header hidden in data counts; two zero blocks end");
	/* The review's bypass: a symlink with a huge base-256 size, which tar
	 * reads no data for, then members: all counted. */
	p = a;
	th(p, "l", '2', 1ULL << 36, 1), p += 512;
	for (int i = 0; i < 20; i++)
		th(p, "m", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 21 && !ended, "tarstream: no size can hide the members after it");
	/* Data that is no header, and zero blocks, count nothing. */
	p = a;
	th(p, "f", '0', 1024, 0), p += 512;
	memset(p, 'x', 1024), p += 1024;
	memset(p, 0, 512), p += 512;
	th(p, "g", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2 && !ended, "tarstream: data and a lone zero block are no members");
	/* pax and GNU extension headers are no members. */
	p = a;
	th(p, "PaxHeader", 'x', 0, 0), p += 512;
	th(p, "GlobalHead", 'g', 0, 0), p += 512;
	th(p, "SolarisHead", 'X', 0, 0), p += 512;
	th(p, "././@LongLink", 'L', 0, 0), p += 512;
	th(p, "././@LongLink", 'K', 0, 0), p += 512;
	th(p, "nnnn", '2', 0, 0), p += 512;
	th(p, "old", '\0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 2, "tarstream: extension headers are no members; type NUL is");
	/* A wrong checksum is no header for tar either. */
	th(a, "bad", '0', 0, 0)[0] ^= 1;
	ok(ts_count(a, 512, &ended) == 0, "tarstream: a wrong checksum is no header");
	/* Checksum fields tar reads leniently: leading tab or NUL, signed sum. */
	th(a, "tab", '0', 0, 0);
	memmove(a + 149, a + 148, 6), a[148] = '\t';
	th(a + 512, "nul", '0', 0, 0);
	memmove(a + 512 + 149, a + 512 + 148, 6), a[512 + 148] = '\0';
	ok(ts_count(a, 1024, &ended) == 2, "tarstream: leading white space or NUL in the checksum");
	th(a, "\xff\xfe", '0', 0, 0);
	{
		long ssum = 0;

		for (int i = 0; i < 512; i++)
			ssum += (signed char)(i >= 148 && i < 156 ? ' ' : a[i]);
		snprintf((char *)a + 148, 8, "%06lo", ssum);
	}
	ok(tarstream_is_header(a) && ts_count(a, 512, &ended) == 1, "tarstream: a signed checksum counts");
	/* Counting goes on after the end: tar stops, the count errs safe. */
	p = a;
	memset(p, 0, 1024), p += 1024;
	th(p, "after", '0', 0, 0), p += 512;
	ok(ts_count(a, (size_t)(p - a), &ended) == 1 && ended, "tarstream: after the end blocks, still counted");
	/* A block cut short is not judged. */
	th(a, "f", '0', 0, 0);
	ok(ts_count(a, 400, &ended) == 0, "tarstream: half a block counts nothing");
}

/* A release's slot: stable per host, agent and version; spread evenly over
 * a fleet (10 bins of a 5000-host fleet within 15% of their share), and
 * the server order a rotation whose first choice is spread too. */
/* Probation after commit: who is on it, what a death found makes, the
 * window, the cause's words, and its record through the state file. */
static void
test_probation(void)
{
	struct config cfg = { .probation_window = 600, .probation_deaths = 2 };
	struct pass_state st = { 0 }, back;
	struct agent_state *a;
	char err[128], cause[128], *text;
	int n;

	a = state_get(&st, "web");
	state_set(&a->cmd, "start");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1000, &n) == PROBATION_NONE,
	    "probation: no commit recorded: no verdict");
	probation_begin(a, "1.0.1", "1.0.0", 1000);
	ok(strcmp(a->probation_version, "1.0.1") == 0 && strcmp(a->probation_from, "1.0.0") == 0 &&
	    a->probation_at == 1000 && a->probation_deaths == 0, "probation: begun at the commit, from the old one");
	ok(probation_judge(&cfg, a, "1.0.1", "started", 1100, &n) == PROBATION_NONE,
	    "probation: running is no death");
	ok(probation_judge(&cfg, a, "1.0.1", NULL, 1100, &n) == PROBATION_NONE,
	    "probation: not seen by the scan is no death");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_DIED && n == 1,
	    "probation: the first death in the window: counted, not failed");
	ok(probation_judge(&cfg, a, "1.0.1", "error: control status exited 3", 1300, &n) == PROBATION_DIED,
	    "probation: a status script that fails may be a death (asked again before acting)");
	ok(probation_judge(&cfg, a, "1.0.0", "stoped", 1300, &n) == PROBATION_NONE,
	    "probation: another version than the one committed: no verdict");
	a->probation_deaths = 1;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1600, &n) == PROBATION_FAILED && n == 2,
	    "probation: the second death at the window's end: failed");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1601, &n) == PROBATION_NONE && n == 1,
	    "probation: a death after the window: none of probation's");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 500, &n) == PROBATION_FAILED,
	    "probation: a commit in the future (a clock set back): the window is open");
	ok(probation_rebooted("a-1", "b-2") && !probation_rebooted("a-1", "a-1") &&
	    !probation_rebooted("", "a-1") && !probation_rebooted(NULL, "a-1") && !probation_rebooted("a-1", ""),
	    "probation: a new boot id is a reboot; an unknown one is none");
	state_set(&a->trial_version, "1.0.2");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_NONE,
	    "probation: stopped by a trial of ours under way: no death");
	state_set(&a->trial_version, "");
	a->failed_now = 1;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_NONE,
	    "probation: down after a trial cut short by a kill: no death");
	a->failed_now = 0;
	a->resumed = 1;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_NONE,
	    "probation: down after a resumed trial: no death");
	a->resumed = 0;
	state_set(&a->cmd, "stop");
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_NONE,
	    "probation: stopped on the server's word: no death");
	state_set(&a->cmd, "start");
	cfg.probation_deaths = 0;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_NONE && !probation_on(&cfg),
	    "probation: probation_deaths 0 turns it off");
	cfg.probation_deaths = 1;
	cfg.probation_window = 0;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1000, &n) == PROBATION_NONE && !probation_on(&cfg),
	    "probation: probation_window 0 turns it off");
	a->probation_deaths = 0;
	cfg.probation_window = 600;
	ok(probation_judge(&cfg, a, "1.0.1", "stoped", 1300, &n) == PROBATION_FAILED && n == 1,
	    "probation: probation_deaths 1: the first death fails it");
	cfg.probation_deaths = 2;
	is_str(probation_cause(&cfg, "1.0.1", 2, cause, sizeof(cause)), "1.0.1 died 2 times within 10 min of its commit",
	    "probation: the cause, in minutes");
	cfg.probation_window = 90;
	is_str(probation_cause(&cfg, "1.0.1", 1, cause, sizeof(cause)), "1.0.1 died 1 time within 90 s of its commit",
	    "probation: in seconds, one death");
	cfg.probation_window = 7200;
	is_str(probation_cause(&cfg, "2", 3, cause, sizeof(cause)), "2 died 3 times within 2 h of its commit",
	    "probation: in hours");

	cfg.probation_window = 600;
	a->probation_deaths = 1;
	a->probation_failures = 3;
	text = state_to_json(&st, NULL);
	ok(state_parse(text, strlen(text), &back, err, sizeof(err)) == 0 && back.n == 1 &&
	    strcmp(back.agents[0].probation_version, "1.0.1") == 0 &&
	    strcmp(back.agents[0].probation_from, "1.0.0") == 0 && back.agents[0].probation_at == 1000 &&
	    back.agents[0].probation_deaths == 1 && back.agents[0].probation_failures == 3,
	    "probation: its record goes through the state file");
	free(text);
	probation_expire(&cfg, &back.agents[0], 1600);
	ok(strcmp(back.agents[0].probation_version, "1.0.1") == 0, "probation: kept until its window ends");
	probation_expire(&cfg, &back.agents[0], 1601);
	ok(back.agents[0].probation_version[0] == '\0' && back.agents[0].probation_deaths == 0 &&
	    back.agents[0].probation_failures == 3, "probation: forgotten after it; the counter stays");
	text = state_to_json(&back, NULL);
	ok(strstr(text, "probation_version") == NULL, "probation: none: not written");
	free(text);
	probation_begin(a, "1.0.2", NULL, 900000);
	probation_expire(&cfg, a, 2000);
	ok(a->probation_at == 2000 && strcmp(a->probation_version, "1.0.2") == 0 && a->probation_from[0] == '\0',
	    "probation: a commit in the future counts from now");
	state_free(&back);
	state_free(&st);
}

static void
test_rollout(void)
{
	size_t bins[10] = { 0 }, first[3] = { 0 }, order[3], i, lo = (size_t)-1, hi = 0;
	char host[32];
	long long o, bad = 0;

	ok(rollout_offset("web-0001", "a", "1.0", 0) == 0, "rollout: no spread, no offset");
	ok(rollout_offset("web-0001", "a", "1.0", 3600) == rollout_offset("web-0001", "a", "1.0", 3600),
	    "rollout: the same slot on every pass");
	ok(rollout_offset("web-0001", "a", "1.0", 3600) != rollout_offset("web-0001", "a", "1.1", 3600) ||
	    rollout_offset("web-0001", "a", "1.0", 3600) != rollout_offset("web-0001", "a", "1.2", 3600),
	    "rollout: another version, another slot");
	for (i = 0; i < 5000; i++) {
		snprintf(host, sizeof(host), "web-%04zu", i);
		o = rollout_offset(host, "falcon-agent", "1.2.0", 3600);
		if (o < 0 || o >= 3600)
			bad++;
		else
			bins[o / 360]++;
		rollout_order(host, 3, order);
		first[order[0]]++;
		if ((order[0] + 1) % 3 != order[1] || (order[1] + 1) % 3 != order[2])
			bad++;
	}
	for (i = 0; i < 10; i++) {
		lo = bins[i] < lo ? bins[i] : lo;
		hi = bins[i] > hi ? bins[i] : hi;
	}
	ok(bad == 0, "rollout: offsets in [0, spread), orders are rotations");
	ok(lo >= 425 && hi <= 575, "rollout: 5000 hosts spread evenly over 10 bins (%zu..%zu of 500)", lo, hi);
	ok(first[0] > 1500 && first[1] > 1500 && first[2] > 1500,
	    "rollout: first servers spread (%zu/%zu/%zu of 5000)", first[0], first[1], first[2]);
	rollout_order("x", 1, order);
	/* Retry-After: seconds or a date, a day at most, garbage refused. */
	ok(fetch_retry_after("120", 1000) == 120, "retry-after: seconds");
	ok(fetch_retry_after(" 0 ", 1000) == 0, "retry-after: zero, with blanks");
	ok(fetch_retry_after("99999999999999999999", 1000) == FETCH_RETRY_AFTER_MAX, "retry-after: a day at most");
	ok(fetch_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111717) == 60, "retry-after: an IMF date");
	ok(fetch_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111717) == 60, "retry-after: an RFC 850 date");
	ok(fetch_retry_after("Sun Nov  6 08:49:37 1994", 784111777) == 0, "retry-after: a date passed is 0");
	ok(fetch_retry_after("Sun, 06 Nov 2094 08:49:37 GMT", 784111717) == FETCH_RETRY_AFTER_MAX,
	    "retry-after: a far date is a day");
	ok(fetch_retry_after("12x", 0) == -1 && fetch_retry_after("", 0) == -1 &&
	    fetch_retry_after("-5", 0) == -1 && fetch_retry_after("soon", 0) == -1, "retry-after: garbage refused");
	ok(order[0] == 0, "rollout: one server is the only choice");
}

/* How many waits of list (n) are for origin o. */
static size_t
waits_for(const struct fetch_backoff *list, size_t n, const char *o)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += strcmp(list[i].origin, o) == 0;
	return k;
}

/* The list of waits is bounded, and never drops a wait still running to
 * make room: a server listing agents whose tarball URLs name many
 * origins answering 429 cannot push out a busy mirror's wait; the
 * newcomers wait for this pass only; a server's origin always fits. */
static void
test_waits(void)
{
	char *servers[] = { "http://meta.example:2001" }, url[64];
	const struct fetch_backoff *list;
	struct fetch_backoff *b;
	long long now = (long long)time(NULL);
	size_t n, i;

	fetch_wait_servers(servers, 1);
	fetch_backoff_load(NULL, 0, 0);
	fetch_asked_to_wait("unit", "http://mirror.example/files/a.tar.gz", 429, "600");
	for (i = 0; i < 2 * FETCH_WAITS_FILES; i++) {
		snprintf(url, sizeof(url), "http://h%zu.example/files/x.tar.gz", i);
		fetch_asked_to_wait("unit", url, 429, "600");
	}
	n = fetch_backoff_list(&list);
	ok(n == FETCH_WAITS_FILES && waits_for(list, n, "http://mirror.example:80") == 1,
	    "waits: bounded, and the busy mirror's wait kept (%zu)", n);
	ok(fetch_wait_for("http://h63.example/other", now) != NULL,
	    "waits: an origin the list had no room for is not asked again in this pass");
	fetch_asked_to_wait("unit", "http://meta.example:2001/heartbeat", 503, "120");
	n = fetch_backoff_list(&list);
	ok(waits_for(list, n, "http://meta.example:2001") == 1 && list[n - 1].heartbeat &&
	    list[n - 1].until <= now + 121, "waits: a server's origin always fits, capped");
	/* A wait that has ended makes room. */
	if ((b = fetch_backoff_find("http://h0.example:80")) != NULL)
		b->until = now - 1;
	fetch_asked_to_wait("unit", "http://late.example/x", 503, "60");
	n = fetch_backoff_list(&list);
	ok(b != NULL && waits_for(list, n, "http://late.example:80") == 1 &&
	    waits_for(list, n, "http://h0.example:80") == 0 &&
	    waits_for(list, n, "http://mirror.example:80") == 1, "waits: an ended wait makes room");
	fetch_backoff_load(NULL, 0, 0);
	fetch_wait_servers(NULL, 0);
}

/* One call under the seccomp filter: did it fail with errno want (0: did
 * it succeed)? */
static int
denied(long r, int want)
{
	return want == 0 ? r != -1 : r == -1 && errno == want;
}

/* In a child under the filter: what it denies, with EPERM, and what gzip
 * and tar need. 0, or the number of the first call that went wrong. */
static int
seccomp_child(void)
{
	int sv[2], n = 0;
	long pid;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1 || seccomp_enter() == -1)
		_exit(255);
	if (n++, !denied(socket(AF_INET, SOCK_STREAM, 0), EPERM))
		return n;
	if (n++, !denied(socket(AF_INET6, SOCK_DGRAM, 0), EPERM))
		return n;
	if (n++, !denied(socket(AF_NETLINK, SOCK_RAW, 0), EPERM))
		return n;
	if (n++, !denied(socket(AF_UNIX, SOCK_STREAM, 0), 0))
		return n;
	if (n++, !denied(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0))
		return n;
	if (n++, !denied(unshare(CLONE_NEWUSER), EPERM))
		return n;
	/* A clone that makes a namespace: refused, else the child leaves. */
	if ((pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0L, 0L, 0L, 0L)) == 0)
		_exit(0);
	if (n++, !denied(pid, EPERM))
		return n;
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	if (n++, !denied(syscall(SYS_clone3, 0L, 0L), ENOSYS))
		return n;
	/* A plain fork still works. */
	if ((pid = fork()) == 0)
		_exit(0);
	if (n++, !denied(pid, 0))
		return n;
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	if (n++, !denied(syscall(SYS_ptrace, 0L, 0L, 0L, 0L), EPERM))
		return n;	/* PTRACE_TRACEME */
	if (n++, !denied(syscall(SYS_keyctl, 0L, 0L, 0L, 0L), EPERM))
		return n;
	if (n++, !denied(syscall(SYS_bpf, 0L, 0L, 0L), EPERM))
		return n;
	if (n++, !denied(syscall(SYS_msgget, 0L, 01600L), EPERM))
		return n;
	if (n++, !denied(syscall(SYS_io_uring_setup, 1L, 0L), EPERM))
		return n;
#ifdef __x86_64__
	if (n++, !denied(syscall(0x40000000L | SYS_getpid), EPERM))
		return n;	/* x32's getpid */
#endif
	if (n++, !denied(getpid(), 0))
		return n;
	return 0;
}

static void
test_seccomp(void)
{
	pid_t pid;
	int st = -1;

	if (!seccomp_known()) {
		ok(1, "seccomp: no filter for this architecture (said so in the log)");
		return;
	}
	if ((pid = fork()) == 0)
		_exit(seccomp_child());
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st), "seccomp: the child ran");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "seccomp: every call denied with EPERM or allowed as it should (first wrong: %u)",
	    (unsigned)WEXITSTATUS(st));
}

/* The decision core (decide.h): every row of its table, each from facts
 * that make it the one that decides, then the transitions between passes
 * that its rules and the record's make. */
static struct config dc_cfg;
static struct desired dc_d;
static struct pass_state dc_prev;
static struct decide_facts dc_f;

/* Fresh facts at time now: a start of a 2 from http://s/files, 1 running,
 * retry_failed 600, no spread, no key, the last record of a empty. */
static void
dc_reset(long long now)
{
	static char name[] = "a", version[] = "2", tarball[] = "http://s/files", md5[] = "", cmd[] = "start";
	static char host[] = "host-1";

	memset(&dc_cfg, 0, sizeof(dc_cfg));
	dc_cfg.retry_failed = 600;
	dc_cfg.hostname = host;
	dc_cfg.download_max_mb = 1024;
	dc_cfg.unpack_max_mb = 4096;
	memset(&dc_d, 0, sizeof(dc_d));
	dc_d.name = name;
	dc_d.version = version;
	dc_d.tarball = tarball;
	dc_d.md5 = md5;
	dc_d.cmd = cmd;
	state_free(&dc_prev);
	dc_prev.heartbeat.ok_at = now - 300;
	memset(&dc_f, 0, sizeof(dc_f));
	dc_f.cfg = &dc_cfg;
	dc_f.d = &dc_d;
	dc_f.cur = NULL;
	dc_f.status = "started";
	dc_f.now = now;
}

/* The last record of a, created blank. */
static struct agent_state *
dc_entry(void)
{
	struct agent_state *a = state_get(&dc_prev, "a");

	dc_f.prev = a;
	return a;
}

/* A hold of 2 from http://s/files, failed at t, with md5 evidence. */
static struct agent_state *
dc_hold(long long t, const char *md5ev)
{
	struct agent_state *a = dc_entry();
	struct evidence ev = { .md5 = "" };

	snprintf(ev.md5, sizeof(ev.md5), "%s", md5ev);
	record_hold(&dc_cfg, a, "2", "http://s/files", md5ev[0] ? &ev : NULL, t);
	return a;
}

/* Set the facts that make row id decide (or note, for a row that goes on). */
static int
dc_fixture(const char *id, long long now)
{
	static char invalid_why[] = "version 'x/y' is not a valid version", dash[] = "2-rc1";
	static char cur1[] = "1", cur2[] = "2";
	struct agent_state *a;

	dc_reset(now);
	dc_f.cur = cur1;
	if (strcmp(id, "refuse-invalid") == 0)
		snprintf(dc_d.invalid, sizeof(dc_d.invalid), "%s", invalid_why);
	else if (strcmp(id, "refuse-untrusted") == 0)
		dc_f.untrusted = "a/2: group-writable";
	else if (strcmp(id, "no-cmd") == 0)
		dc_d.cmd = (char *)"";
	else if (strcmp(id, "stop-absent") == 0) {
		dc_d.cmd = (char *)"stop";
		dc_f.cur = NULL;
	} else if (strcmp(id, "stop-stopped") == 0) {
		dc_d.cmd = (char *)"stop";
		dc_f.status = "stoped";
	} else if (strcmp(id, "stop") == 0)
		dc_d.cmd = (char *)"stop";
	else if (strcmp(id, "unknown-cmd") == 0)
		dc_d.cmd = (char *)"restart";
	else if (strcmp(id, "running") == 0)
		dc_f.cur = cur2;
	else if (strcmp(id, "start") == 0) {
		dc_f.cur = cur2;
		dc_f.status = "stoped";
	} else if (strcmp(id, "refuse-dashed") == 0) {
		dc_cfg.public_key = &dc_cfg;	/* any key */
		dc_d.version = dash;
	} else if (strcmp(id, "hold-caps") == 0) {
		a = dc_hold(now - 60, "");
		state_set(&a->held_caps, "download_max_mb 1, unpack_max_mb 4096");
	} else if (strcmp(id, "hold-ask") == 0)
		dc_hold(now - 60, "sha256:aa");
	else if (strcmp(id, "hold-changed") == 0) {
		static struct evidence ev = { .md5 = "sha256:bb" };

		dc_hold(now - 60, "sha256:aa");
		dc_f.ev = &ev;
	} else if (strcmp(id, "hold-over") == 0)
		dc_hold(now - 601, "");
	else if (strcmp(id, "hold-retry") == 0) {
		dc_hold(now - 60, "");
		dc_f.retry = 1;
	} else if (strcmp(id, "hold") == 0)
		dc_hold(now - 60, "");
	else if (strcmp(id, "busy") == 0) {
		a = dc_entry();
		state_set(&a->busy_version, "2");
		a->busy_fails = 2;
		a->busy_skip = 1;
		a->busy_since = now - 60;
	} else if (strcmp(id, "slot") == 0) {
		dc_cfg.rollout_spread = 3600;
		a = dc_entry();
		state_set(&a->seen_version, "2");
		a->seen_at = now - rollout_offset("host-1", "a", "2", 3600) + 1;
	} else if (strcmp(id, "switch") != 0)
		return -1;
	return 0;
}

static void
test_decide_table(void)
{
	long long now = 1800000000;
	struct decision p;
	size_t i, walked = 0;

	for (i = 0; i < decide_nrules; i++) {
		const struct decide_rule *r = &decide_rules[i];

		if (dc_fixture(r->id, now) == -1) {
			ok(0, "decide: row %s has a fixture", r->id);
			continue;
		}
		decide(&dc_f, &p);
		if (r->go_on)	/* noted, then the rows after it decide: here the switch */
			ok(p.note[0] != '\0' && p.act == ACT_SWITCH && p.held != NULL,
			    "decide: row %s notes (%s) and goes on to %s", r->id, p.note, p.rule);
		else
			ok(p.rule != NULL && strcmp(p.rule, r->id) == 0 && p.act == r->act,
			    "decide: row %s decides (%s)", r->id, r->rule);
		walked++;
	}
	ok(walked == decide_nrules && decide_nrules == 19, "decide: the whole table walked, %zu rows", walked);
	dc_fixture("refuse-invalid", now);
	decide(&dc_f, &p);
	ok(p.result == STATE_REFUSED, "decide: a refusal is the verdict refused");
	dc_fixture("slot", now);
	decide(&dc_f, &p);
	ok(p.result == STATE_WAITING && p.slot == now + 1, "decide: waiting for its slot, one second from now");
	dc_f.now = now + 1;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH, "decide: at its slot it is switched to");
	dc_fixture("slot", now);
	dc_f.now_flag = 1;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH, "decide: run --now does not wait for the slot");
	dc_fixture("busy", now);
	decide(&dc_f, &p);
	ok(p.act == ACT_BUSY && p.result == STATE_BUSY, "decide: a busy server is skipped: busy");
	dc_f.now = now - 60 + 600;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH, "decide: never longer than retry_failed");
	dc_fixture("hold", now);
	dc_f.installed = 1;
	dc_f.kept = "2";
	decide(&dc_f, &p);
	ok(p.act == ACT_HOLD && !p.installed && p.kept, "decide: a failed version kept on disk is no install");
	state_free(&dc_prev);
}

/* Passes in a row, the record between them written as the pass would. */
static void
test_decide_passes(void)
{
	static const struct evidence same = { .md5 = "sha256:aa" }, fixed = { .md5 = "sha256:bb" };
	long long t = 1800000000;
	struct agent_state *a;
	struct decision p;

	/* Pass 1: the release fails for a fault of its own: held 600 s. */
	dc_reset(t);
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH, "passes: 1. a new version: switched to");
	a = dc_hold(t, "sha256:aa");
	ok(a->result == STATE_HELD && a->held_fails == 1 && a->retry_after == t + 600,
	    "passes: 1. it failed: held, 600 s, from this pass on");
	/* Pass 2: held; the server is asked, and publishes the same. */
	dc_f.now = t + 300;
	decide(&dc_f, &p);
	ok(p.act == ACT_ASK, "passes: 2. held: the server asked for its evidence");
	dc_f.ev = &same;
	decide(&dc_f, &p);
	ok(p.act == ACT_HOLD && p.result == STATE_HELD && strcmp(p.rule, "hold") == 0,
	    "passes: 2. the same evidence: held");
	/* Pass 3: the .md5 fixed: the cause is gone, tried again at once. */
	dc_f.ev = &fixed;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH && p.renewed && strstr(p.note, "its .md5 changed") != NULL,
	    "passes: 3. the cause gone: tried again (%s)", p.note);
	/* Pass 4: the hold over by time, tried again, failed again: the
	 * backoff doubles. */
	dc_f.ev = NULL;
	dc_f.now = t + 600;
	decide(&dc_f, &p);
	dc_f.ev = &same;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH && strcmp(p.rule, "switch") == 0 && strstr(p.note, "is over") != NULL,
	    "passes: 4. the hold over: tried again");
	record_hold(&dc_cfg, a, "2", "http://s/files", &same, t + 600);
	ok(a->held_fails == 2 && a->retry_after - a->failed_at == 1200 && a->result == STATE_HELD,
	    "passes: 4. failed again: held with the backoff doubled (%lld s)", a->retry_after - a->failed_at);
	dc_f.ev = NULL;
	dc_f.now = t + 700;
	decide(&dc_f, &p);
	dc_f.ev = &same;
	decide(&dc_f, &p);
	ok(p.act == ACT_HOLD, "passes: 5. held again");
	/* Pass 6: cut by the deadline: no verdict on the version, no hold. */
	record_clear_hold(a);
	record_cut(a);
	ok(a->result == STATE_CUT && a->held_version[0] == '\0' && strncmp(a->error, "cut by pass_timeout", 19) == 0,
	    "passes: 6. cut by the deadline: cut, not held (%s)", a->error);
	dc_f.ev = NULL;
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH, "passes: 7. after a cut: tried again");
	/* Another version asked: the hold of 2 does not hold 3. */
	a = dc_hold(t, "");
	dc_d.version = (char *)"3";
	decide(&dc_f, &p);
	ok(p.act == ACT_SWITCH && p.held == NULL, "passes: another version asked: no hold");
	state_free(&dc_prev);
}

int
main(int argc, char **argv)
{
	/* unit metrics-sample FILE: metrics_write of the sample, for a parser. */
	if (argc == 3 && strcmp(argv[1], "metrics-sample") == 0) {
		sample_init();
		return metrics_write(argv[2], &sample_state, sample_real, 2) == 0 ? 0 : 1;
	}
	test_config();
	test_protection();
	test_names();
	test_vis();
	test_log_format();
	test_urls();
	test_digest();
	test_tarball();
	test_tree();
	test_tarstream();
	test_tarstream_dirs();
	test_heartbeat();
	test_reserved();
	test_trust();
	test_trust_path();
	test_metrics();
	test_state();
	test_rollout();
	test_waits();
	test_probation();
	test_evidence();
	test_seccomp();
	test_decide_table();
	test_decide_passes();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
