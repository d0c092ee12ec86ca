/* Unit tests of the pure parts, as TAP: config, heartbeat request and
 * response, validation, URLs, .md5 files, tarball member rules. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "digest.h"
#include "fetch.h"
#include "heartbeat.h"
#include "log.h"
#include "tarball.h"
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

/* Parse text as a config; the error, or "" on success. */
static const char *
cfg_err(const char *text)
{
	static char err[256];
	struct config c;

	err[0] = '\0';
	if (config_parse(&c, text, "/etc/ops", err, sizeof(err)) == 0)
		config_free(&c);
	return err;
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
	config_free(&c);

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
		const char *path = getenv("CFG_EXAMPLE");	/* set by t/0001-unit.t */
		FILE *f = path ? fopen(path, "r") : NULL;
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
		    strcmp(ex.proxy, def.proxy) == 0 && strcmp(ex.no_proxy, def.no_proxy) == 0 &&
		    strcmp(ex.metrics_file, def.metrics_file) == 0 &&
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
	is_str(cfg_err("{\"server\": 5}"), "server: must be a string", "config: server type");
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
	is_str(cfg_err("[1]"), "not a JSON object", "config: not an object");
	is_str(cfg_err("{\"server\": "), "not a JSON object (syntax error)", "config: syntax error");
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

static void
test_tarball(void)
{
	char why[512];

	ok(tarball_path_ok("control") && tarball_path_ok("./control") && tarball_path_ok("./") &&
	    tarball_path_ok("bin/a..b"), "tar: ordinary paths pass");
	ok(!tarball_path_ok("/etc/passwd") && !tarball_path_ok("../x") && !tarball_path_ok("a/../../x") &&
	    !tarball_path_ok("a/..") && !tarball_path_ok(""), "tar: absolute and '..' paths refused");
	ok(tarball_link_ok("./lib/libx.so", "libx.so.1") && tarball_link_ok("bin/x", "../lib/x") &&
	    tarball_link_ok("a/b/c", "../../d"), "tar: links inside pass");
	ok(!tarball_link_ok("x", "/etc/passwd") && !tarball_link_ok("./x", "../x") &&
	    !tarball_link_ok("a/x", "../../x") && !tarball_link_ok("a/x", "b/../../../x") &&
	    !tarball_link_ok("x", ""), "tar: links out refused");

	ok(tarball_check_line("-rwxr-xr-x 0/0 60 2026-11-24 17:56 \"./control\"", why, sizeof(why)) == NULL,
	    "tar: a file line");
	ok(tarball_check_line("drwxr-xr-x 0/0 0 2026-11-24 17:56 \"./a dir/\"", why, sizeof(why)) == NULL,
	    "tar: a directory with a space");
	ok(tarball_check_line("lrwxrwxrwx 0/0 0 2026-11-24 17:56 \"./sub/l\" -> \"../a\"", why, sizeof(why)) == NULL,
	    "tar: a symlink inside");
	ok(tarball_check_line("hrw-r--r-- 0/0 0 2026-11-24 17:56 \"./h\" link to \"./a b\"", why, sizeof(why)) == NULL,
	    "tar: a hard link inside");
	is_str(tarball_check_line("lrwxrwxrwx 0/0 0 2026-11-24 17:56 \"l\" -> \"/etc\"", why, sizeof(why)),
	    "link 'l' points out of the tarball, to '/etc'", "tar: absolute symlink refused");
	is_str(tarball_check_line("hrw-r--r-- 0/0 0 2026-11-24 17:56 \"h\" link to \"../x\"", why, sizeof(why)),
	    "link 'h' points out of the tarball, to '../x'", "tar: hard link out refused");
	is_str(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"../evil\"", why, sizeof(why)),
	    "member '../evil' has an absolute path or a '..'", "tar: '..' member refused");
	is_str(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"/etc/cron.d/x\"", why, sizeof(why)),
	    "member '/etc/cron.d/x' has an absolute path or a '..'", "tar: absolute member refused");
	is_str(tarball_check_line("crw-r--r-- 0/0 1,3 2026-11-24 17:56 \"null\"", why, sizeof(why)),
	    "member 'null' is of type 'c': only files, directories and links are allowed",
	    "tar: device refused");
	ok(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"a\\\\b\\\"c\"", why, sizeof(why)) == NULL,
	    "tar: escaped backslash and quote");
	ok(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"x\\n../y\"", why, sizeof(why)) == NULL,
	    "tar: an escaped newline is part of one name");
	ok(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \".\\056/x\"", why, sizeof(why)) != NULL,
	    "tar: octal escapes decoded before the checks");
	ok(tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"unterminated", why, sizeof(why)) != NULL &&
	    tarball_check_line("-rw-r--r-- 0/0 0 2026-11-24 17:56 \"a\" trailing", why, sizeof(why)) != NULL &&
	    tarball_check_line("", why, sizeof(why)) != NULL, "tar: malformed lines refused");
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
	struct real_agent a[2] = { { "falcon-agent", "1.0.0", "started" }, { "x\"y", "2", "stoped" } };
	struct hb_response r;
	char *s;

	is_str(s = hb_request("cnc-bj-1", a, 2, 1465874871),
	    "{\"hostname\":\"cnc-bj-1\",\"realAgents\":[{\"name\":\"falcon-agent\",\"version\":\"1.0.0\","
	    "\"status\":\"started\",\"timestamp\":1465874871},{\"name\":\"x\\\"y\",\"version\":\"2\","
	    "\"status\":\"stoped\",\"timestamp\":1465874871}]}", "heartbeat: request body as ops-meta reads it");
	free(s);
	is_str(s = hb_request("h", NULL, 0, 1), "{\"hostname\":\"h\",\"realAgents\":[]}",
	    "heartbeat: no agents is an empty list");
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
	    "{\"name\":\"a\",\"version\":\"1\",\"tarball\":\"http://h\",\"cmd\":\"reboot\"}]}", &r);
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
}

int
main(void)
{
	test_config();
	test_names();
	test_vis();
	test_log_format();
	test_urls();
	test_digest();
	test_tarball();
	test_heartbeat();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
