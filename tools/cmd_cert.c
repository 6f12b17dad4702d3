/*
 * cmd_cert.c - "domsecctl cert csr|selfsigned": a key and a certificate
 * request or self-signed certificate with the names the Exchange 2007
 * Domain Security whitepaper recommends for Internet SMTP (Appendix 1,
 * "Best Practices for Domain Names for Internet SMTP"):
 *
 *   subject CN   = the server's public FQDN (--name)
 *   dNSName SANs = the FQDN, every accepted domain (--domain, repeatable)
 *                  and, with --wildcard, "*.domain" for each of them
 *   EKU          = serverAuth + clientAuth (one certificate both ways)
 *   keyUsage     = digitalSignature + keyEncipherment (RSA) or
 *                  digitalSignature + keyAgreement (EC)
 *
 * The key is created (mode 0600) when KEYFILE does not exist, and reused
 * when it does.  The output file is written atomically.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "commands.h"
#include "domsec/fileio.h"
#include "domsec/hex.h"
#include "domsec/names.h"
#include "domsec/strlist.h"
#include "domsec/verdict.h"

#define USAGE \
	"usage: domsecctl cert csr|selfsigned --name FQDN [--domain DOMAIN]...\n" \
	"           [--wildcard] --key KEYFILE --out FILE [--days N]\n" \
	"           [--key-type rsa|ec] [--subject \"C=US,O=Contoso Corp\"]\n"

struct cert_opts {
	int selfsigned;
	const char *name;            /* lower case (name_buf) */
	char name_buf[256];
	struct ds_strlist domains;   /* lower case */
	int wildcard;
	const char *key_file;
	const char *out_file;
	long days;
	const char *key_type;        /* NULL: rsa for a new key, any when reused */
	const char *subject;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "domsecctl cert: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n" USAGE);
	return DS_EXIT_USAGE;
}

static void print_openssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	fprintf(stderr, "domsecctl cert: %s%s%s\n", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

/* DNS names are case-insensitive; certificates carry them in lower case. */
static void lower_copy(char *dst, const char *src)
{
	while ((*dst++ = (char)tolower((unsigned char)*src++)) != '\0')
		;
}

static int parse_args(int argc, char **argv, struct cert_opts *o)
{
	if (argc < 2)
		return usage_error("%s", "csr or selfsigned expected");
	if (strcmp(argv[1], "selfsigned") == 0)
		o->selfsigned = 1;
	else if (strcmp(argv[1], "csr") != 0)
		return usage_error("unknown action \"%s\" (csr or selfsigned)",
		    argv[1]);
	o->days = 365;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--wildcard") == 0) {
			o->wildcard = 1;
			continue;
		}
		if (i + 1 >= argc)
			return usage_error("%s needs a value or is unknown", a);
		const char *v = argv[++i];
		if (strcmp(a, "--name") == 0) {
			if (strlen(v) >= sizeof o->name_buf)
				return usage_error("--name %s: too long", v);
			lower_copy(o->name_buf, v);
			o->name = o->name_buf;
		} else if (strcmp(a, "--domain") == 0) {
			if (ds_strlist_add(&o->domains, v) != 0)
				return usage_error("%s", "out of memory");
			lower_copy(o->domains.v[o->domains.n - 1], v);
		} else if (strcmp(a, "--key") == 0) {
			o->key_file = v;
		} else if (strcmp(a, "--out") == 0) {
			o->out_file = v;
		} else if (strcmp(a, "--days") == 0) {
			char *end;
			o->days = strtol(v, &end, 10);
			if (*end != '\0' || o->days < 1 || o->days > 36500)
				return usage_error("--days %s: expected 1 to 36500", v);
		} else if (strcmp(a, "--key-type") == 0) {
			if (strcmp(v, "rsa") != 0 && strcmp(v, "ec") != 0)
				return usage_error("--key-type %s: expected rsa or ec", v);
			o->key_type = v;
		} else if (strcmp(a, "--subject") == 0) {
			o->subject = v;
		} else {
			return usage_error("unknown option %s", a);
		}
	}
	if (o->name == NULL || o->key_file == NULL || o->out_file == NULL)
		return usage_error("%s", "--name, --key and --out are required");
	if (!ds_hostname_valid(o->name, 0) || strchr(o->name, '.') == NULL)
		return usage_error("--name %s: expected the server's fully qualified "
		    "host name", o->name);
	for (size_t i = 0; i < o->domains.n; i++)
		if (!ds_hostname_valid(o->domains.v[i], 1))
			return usage_error("--domain %s: not a valid domain name",
			    o->domains.v[i]);
	return 0;
}

/* ---- the key ---- */

static EVP_PKEY *load_key(const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "domsecctl cert: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL)
		print_openssl_error("cannot read the private key (PEM, unencrypted)");
	return key;
}

static EVP_PKEY *create_key(const char *file, const char *type)
{
	EVP_PKEY *key = strcmp(type, "ec") == 0 ? EVP_EC_gen("P-256") :
	    EVP_RSA_gen(3072);
	if (key == NULL) {
		print_openssl_error("cannot generate a key");
		return NULL;
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		fprintf(stderr, "domsecctl cert: cannot create %s: %s\n", file,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		EVP_PKEY_free(key);
		return NULL;
	}
	int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		print_openssl_error("cannot write the private key");
		unlink(file);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

static EVP_PKEY *obtain_key(const struct cert_opts *o)
{
	if (access(o->key_file, F_OK) != 0) {
		const char *type = o->key_type ? o->key_type : "rsa";
		EVP_PKEY *key = create_key(o->key_file, type);
		if (key != NULL)
			printf("created key %s (%s, mode 0600)\n", o->key_file,
			    strcmp(type, "ec") == 0 ? "EC P-256" : "RSA 3072");
		return key;
	}
	EVP_PKEY *key = load_key(o->key_file);
	if (key == NULL)
		return NULL;
	int is_ec = EVP_PKEY_is_a(key, "EC");
	if (o->key_type != NULL && (strcmp(o->key_type, "ec") == 0) != is_ec) {
		fprintf(stderr, "domsecctl cert: %s is an existing %s key, not %s; "
		    "remove it or drop --key-type\n", o->key_file,
		    is_ec ? "EC" : EVP_PKEY_get0_type_name(key), o->key_type);
		EVP_PKEY_free(key);
		return NULL;
	}
	printf("reusing key %s (%s %d bits)\n", o->key_file,
	    EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
	return key;
}

/* ---- names and extensions ---- */

static int add_subject_part(X509_NAME *name, char *part)
{
	while (*part == ' ')
		part++;
	char *eq = strchr(part, '=');
	if (eq == NULL || eq == part)
		return -1;
	*eq = '\0';
	char *field = part, *value = eq + 1;
	size_t flen = strlen(field);
	while (flen > 0 && field[flen - 1] == ' ')
		field[--flen] = '\0';
	while (*value == ' ')
		value++;
	if (strcasecmp(field, "CN") == 0 || *value == '\0')
		return -1;
	return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
	    (const unsigned char *)value, -1, -1, 0) == 1 ? 0 : -1;
}

/* Subject: the --subject parts in order ("C=US,O=Contoso" or "/C=US/O=.."),
 * then CN = the server FQDN. */
static X509_NAME *build_subject(const struct cert_opts *o)
{
	X509_NAME *name = X509_NAME_new();
	if (name == NULL)
		return NULL;
	if (o->subject != NULL && o->subject[0] != '\0') {
		char *copy = strdup(o->subject);
		const char *sep = o->subject[0] == '/' ? "/" : ",";
		char *save = NULL;
		int bad = copy == NULL;
		for (char *p = bad ? NULL : strtok_r(copy, sep, &save); p != NULL;
		    p = strtok_r(NULL, sep, &save))
			if (add_subject_part(name, p) != 0) {
				fprintf(stderr, "domsecctl cert: --subject %s: each part "
				    "must be FIELD=value, such as C=US or O=Contoso Corp "
				    "(CN comes from --name)\n", o->subject);
				bad = 1;
				break;
			}
		free(copy);
		if (bad) {
			ERR_clear_error();
			X509_NAME_free(name);
			return NULL;
		}
	}
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)o->name, -1, -1, 0) != 1) {
		print_openssl_error("cannot set the CN");
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

static int list_has(const struct ds_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* The dNSName SANs, without duplicates: FQDN, domains, wildcards. */
static int collect_names(const struct cert_opts *o, struct ds_strlist *names)
{
	if (ds_strlist_add(names, o->name) != 0)
		return -1;
	for (size_t i = 0; i < o->domains.n; i++)
		if (!list_has(names, o->domains.v[i]) &&
		    ds_strlist_add(names, o->domains.v[i]) != 0)
			return -1;
	if (!o->wildcard)
		return 0;
	for (size_t i = 0; i < o->domains.n; i++) {
		char wild[300];
		if (o->domains.v[i][0] == '*')
			continue;
		snprintf(wild, sizeof wild, "*.%s", o->domains.v[i]);
		if (!list_has(names, wild) && ds_strlist_add(names, wild) != 0)
			return -1;
	}
	return 0;
}

/*
 * Adds the extensions: to cert directly (one at a time, so that the
 * authority key identifier can see the subject key identifier just added),
 * or, for a request, as one extension request attribute.
 */
static int add_extensions(X509 *cert, X509_REQ *req,
    const struct ds_strlist *names, int is_ec)
{
	X509V3_CTX ctx;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	size_t sanlen = 1;
	for (size_t i = 0; i < names->n; i++)
		sanlen += strlen(names->v[i]) + 5;
	char *san = malloc(sanlen);
	if (san == NULL)
		return -1;
	san[0] = '\0';
	for (size_t i = 0, o = 0; i < names->n; i++) {
		int w = snprintf(san + o, sanlen - o, "%sDNS:%s", i > 0 ? "," : "",
		    names->v[i]);
		if (w < 0 || (size_t)w >= sanlen - o)
			break;
		o += (size_t)w;
	}
	struct { int nid; const char *value; } wanted[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, is_ec ? "critical,digitalSignature,keyAgreement" :
		    "critical,digitalSignature,keyEncipherment" },
		{ NID_ext_key_usage, "serverAuth,clientAuth" },
		{ NID_subject_alt_name, san },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
	};
	size_t n = sizeof wanted / sizeof wanted[0];
	if (cert != NULL) {
		X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	} else {
		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		n -= 2;   /* the CA sets the key identifiers */
		if ((exts = sk_X509_EXTENSION_new_null()) == NULL) {
			free(san);
			return -1;
		}
	}
	int ok = 1;
	for (size_t i = 0; ok && i < n; i++) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx,
		    wanted[i].nid, wanted[i].value);
		if (ext == NULL) {
			print_openssl_error("cannot build a certificate extension");
			ok = 0;
		} else if (cert != NULL) {
			ok = X509_add_ext(cert, ext, -1);
			X509_EXTENSION_free(ext);
		} else if (!sk_X509_EXTENSION_push(exts, ext)) {
			X509_EXTENSION_free(ext);
			ok = 0;
		}
	}
	if (ok && req != NULL)
		ok = X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	free(san);
	return ok ? 0 : -1;
}

/* ---- output ---- */

static int write_atomically(const char *file, X509 *cert, X509_REQ *req)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long len = 0;
	int ok = mem != NULL && (cert ? PEM_write_bio_X509(mem, cert)
	    : PEM_write_bio_X509_REQ(mem, req));

	if (ok)
		len = BIO_get_mem_data(mem, &pem);
	if (!ok || len <= 0) {
		fprintf(stderr, "domsecctl cert: cannot write %s: encoding failed\n", file);
		BIO_free(mem);
		return -1;
	}
	if (ds_file_write_atomic(file, pem, (size_t)len, 0644) != 0) {
		fprintf(stderr, "domsecctl cert: cannot write %s: %s\n", file,
		    strerror(errno));
		BIO_free(mem);
		return -1;
	}
	BIO_free(mem);
	return 0;
}

static void print_digest(const char *label, const unsigned char *md,
    unsigned int len, int colons)
{
	char text[3 * EVP_MAX_MD_SIZE + 1];

	ds_hex_encode(md, len, text, 1, colons ? ':' : '\0');
	printf("%s%s\n", label, text);
}

static void print_key_fingerprint(EVP_PKEY *key)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int len = i2d_PUBKEY(key, &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL))
		print_digest("public key SHA-256:     ", md, mdlen, 1);
	OPENSSL_free(der);
}

static void print_result(const struct cert_opts *o, X509 *cert, EVP_PKEY *key,
    const struct ds_strlist *names)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	printf("wrote %s %s\n", o->selfsigned ? "self-signed certificate" :
	    "certificate request", o->out_file);
	printf("subject CN:             %s\n", o->name);
	printf("alternate names:        ");
	for (size_t i = 0; i < names->n; i++)
		printf("%s%s", i ? ", " : "", names->v[i]);
	printf("\n");
	if (cert != NULL) {
		if (X509_digest(cert, EVP_sha1(), md, &mdlen))
			print_digest("thumbprint (SHA-1):     ", md, mdlen, 0);
		if (X509_digest(cert, EVP_sha256(), md, &mdlen))
			print_digest("fingerprint (SHA-256):  ", md, mdlen, 1);
	}
	print_key_fingerprint(key);
}

/* ---- building ---- */

static X509 *build_cert(const struct cert_opts *o, EVP_PKEY *key,
    X509_NAME *subject, const struct ds_strlist *names)
{
	X509 *cert = X509_new();
	BIGNUM *bn = BN_new();
	int ok = cert != NULL && bn != NULL &&
	    BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL &&
	    X509_set_version(cert, 2) &&
	    X509_set_subject_name(cert, subject) &&
	    X509_set_issuer_name(cert, subject) &&
	    X509_gmtime_adj(X509_getm_notBefore(cert), -300) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(cert), (int)o->days, 0, NULL) !=
	    NULL &&
	    X509_set_pubkey(cert, key);
	BN_free(bn);
	if (!ok) {
		print_openssl_error("cannot build the certificate");
		X509_free(cert);
		return NULL;
	}
	if (add_extensions(cert, NULL, names, EVP_PKEY_is_a(key, "EC")) != 0 ||
	    !X509_sign(cert, key, EVP_sha256())) {
		print_openssl_error("cannot sign the certificate");
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static X509_REQ *build_req(EVP_PKEY *key, X509_NAME *subject,
    const struct ds_strlist *names)
{
	X509_REQ *req = X509_REQ_new();
	int ok = req != NULL && X509_REQ_set_version(req, 0) &&
	    X509_REQ_set_subject_name(req, subject) &&
	    X509_REQ_set_pubkey(req, key);
	if (!ok) {
		print_openssl_error("cannot build the request");
		X509_REQ_free(req);
		return NULL;
	}
	if (add_extensions(NULL, req, names, EVP_PKEY_is_a(key, "EC")) != 0 ||
	    !X509_REQ_sign(req, key, EVP_sha256())) {
		print_openssl_error("cannot sign the request");
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

int cmd_cert(int argc, char **argv)
{
	struct cert_opts o;
	struct ds_strlist names = { 0 };
	EVP_PKEY *key = NULL;
	X509_NAME *subject = NULL;
	X509 *cert = NULL;
	X509_REQ *req = NULL;
	int rc;

	memset(&o, 0, sizeof o);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf(USAGE);
		return DS_EXIT_OK;
	}
	if ((rc = parse_args(argc, argv, &o)) != 0)
		goto out;
	rc = DS_EXIT_FAIL;
	if ((subject = build_subject(&o)) == NULL) {
		rc = DS_EXIT_USAGE;
		goto out;
	}
	if (collect_names(&o, &names) != 0 || (key = obtain_key(&o)) == NULL)
		goto out;
	if (o.selfsigned)
		cert = build_cert(&o, key, subject, &names);
	else
		req = build_req(key, subject, &names);
	if ((cert == NULL && req == NULL) ||
	    write_atomically(o.out_file, cert, req) != 0)
		goto out;
	print_result(&o, cert, key, &names);
	rc = DS_EXIT_OK;
out:
	X509_free(cert);
	X509_REQ_free(req);
	X509_NAME_free(subject);
	EVP_PKEY_free(key);
	ds_strlist_free(&names);
	ds_strlist_free(&o.domains);
	return rc;
}
