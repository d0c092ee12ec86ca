/* Unit tests of the pure parts, as TAP: config, heartbeat request and
 * response, validation, URLs, .md5 files, link resolution in an unpacked tree, signed .sha256 lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "digest.h"
#include "fetch.h"
#include "heartbeat.h"
#include "signature.h"
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
	test_urls();
	test_digest();
	test_tarball();
	test_tree();
	test_heartbeat();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
