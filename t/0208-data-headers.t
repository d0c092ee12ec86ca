#!/bin/sh
# A file's data may hold bytes that read as a tar header (random bytes do
# about once in 150,000 blocks; an archive stored inside a release always
# does). Only where tar itself reads a header may a sparse type or a too
# large extension header refuse a release: a good release whose data
# fakes them installs, and the same headers where tar reads them are
# refused.
. "$(dirname "$0")/lib.sh"

# headers OUT KIND: KIND data writes a file whose data is a sparse header,
# a pax header claiming 1 TiB and a pax header with a GNU.sparse record;
# KIND real puts a sparse header where tar reads the next one.
headers() {
	python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
def fix(b):	# the checksum as tar writes it
    b[148:156] = b"        "
    b[148:156] = b"%06o\0 " % sum(b)
    return bytes(b)
def hdr(name, typ, size=0):
    i = tarfile.TarInfo(name); i.size = size
    b = bytearray(i.tobuf(tarfile.GNU_FORMAT)); b[156] = ord(typ)
    if size >= 1 << 33:	# base-256
        b[124:136] = b"\x80" + size.to_bytes(11, "big")
    return fix(b)
rec = b"30 GNU.sparse.major=1\n"
rec = b"%d GNU.sparse.major=1\n" % (len(rec))
fake = hdr("s", "S") + hdr("PaxHeader", "x", 1 << 40) + hdr("PaxHeader", "x", len(rec)) + rec.ljust(512, b"\0")
with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
    ctl = b"#!/bin/sh\necho started\n"
    i = tarfile.TarInfo("control"); i.mode = 0o755; i.size = len(ctl)
    t.addfile(i, io.BytesIO(ctl))
    if kind == "data":
        i = tarfile.TarInfo("data.bin"); i.size = len(fake)
        t.addfile(i, io.BytesIO(fake))
    else:
        t.fileobj.write(hdr("s", "S"))
        t.offset += 512
PY
	(cd "$(dirname "$1")" && md5sum "$(basename "$1")" >"$(basename "$1").md5")
}

start_server
config
headers "$F/fake-1.tar.gz" data
serve "{\"agents\": [$(want fake 1)]}"
pass
is 'headers faked in a file'"'"'s data: installed' "$rc $(cat "$W/fake/.version" 2>/dev/null)" '0 1'
check 'the data is there as it was sent' test -s "$W/fake/1/data.bin"
headers "$F/fake-2.tar.gz" real
serve "{\"agents\": [$(want fake 2)]}"
pass
is 'a sparse header where tar reads one: refused' "$rc $(cat "$W/fake/.version")" '1 1'
grep_log 'refused as sparse' 'error fake: refusing fake-2\.tar\.gz: it holds a sparse member'
done_testing
