"""Deterministic generator of a realistic contact mailbox for the benchmark, and the
code that builds it in the local Dovecot (LMTP into INBOX, one MOVE into a folder).

Every message is a function of (seed, set name, index): the same seed gives the
same bytes on every machine.  Senders are 130 addresses: school domains taken from
rules/schools.toml, plus qq.com / 163.com addresses signed with a school's name.
Subjects are RFC 2047 in UTF-8 or GB18030, filenames RFC 2231 (with continuations
when long), lines end in CRLF.  Attachments are random bytes behind real file
headers: JPEG (SOI/APP0 … EOI), MP4 (ftyp/mdat boxes), a valid PDF (xref, a text
page, a DCT image) and a real .docx (zip with word/document.xml) whose text is an
activity plan or a news story.
"""

from __future__ import annotations

import base64
import imaplib
import io
import itertools
import json
import os
import queue
import random
import re
import smtplib
import ssl
import subprocess
import threading
import time
import tomllib
import zipfile
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

SPEC_VERSION = 1
CST = timezone(timedelta(hours=8))
START = datetime(2024, 7, 1, 8, 30, tzinfo=CST)
# Share of each kind of mail in the 2,000-message mailbox (the mix).
MIX = (("doc", 0.60), ("photos", 0.25), ("pdf", 0.10), ("video", 0.05))
SIZES = {"doc": 30_000, "photo": 300_000, "pdf": 1_000_000, "video": 10_000_000,
         "huge": 50 * 1024 * 1024}
LOCALS = ("houqin", "hqc", "hqdw", "hqjt", "dangban", "xcb", "hq_news", "hqzgs")
NAMES = ("王老师", "李红", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴强",
         "后勤党委", "后勤处办公室", "后勤集团宣传部", "后勤服务中心")
MAILERS = ("Foxmail 7.2.25.228[cn]", "QQMail 2.x", "Coremail Webmail Server Version 2.1",
           "Apple Mail (2.3774.600.62)", "Microsoft Outlook 16.0")
TOPICS = ("参观校史馆", "走进博物馆", "“道中华之美 美后勤之道”主题党日", "校史馆半日研学",
          "博物馆（校史馆）@接力行", "后勤党员参观活动")
PLAN_FIELDS = ("活动背景", "活动组织", "活动时间", "活动地点", "活动流程", "活动联系人及电话")


class Generator:
    def __init__(self, root: Path, seed: int = 20240625):
        self.seed = seed
        rules = tomllib.loads((root / "rules" / "schools.toml").read_text(encoding="utf-8"))
        schools = rules["school"]
        with_domain = [s for s in schools if s.get("domains")]
        rng = random.Random(seed)
        self.senders = []  # (address, display name, school name, charset)
        for k in range(95):          # 95 campus addresses: every school with a domain, some twice
            s = with_domain[k % len(with_domain)]
            local = LOCALS[(k // len(with_domain) + k) % len(LOCALS)]
            self.senders.append((f"{local}@{s['domains'][0]}", rng.choice(NAMES), s["name"],
                                 "utf-8"))
        for k in range(35):          # 35 personal qq.com / 163.com addresses, signed
            s = rng.choice(schools)
            addr = (f"{rng.randrange(10**8, 4 * 10**9)}@qq.com" if k < 20
                    else f"{rng.choice(['hq', 'dangzhibu', 'xuanchuan'])}{rng.randrange(1000)}@163.com")
            self.senders.append((addr, rng.choice(NAMES), s["name"], "gb18030" if k < 20 else "utf-8"))
        self.weights = [1 / (i % 40 + 1) ** 0.6 for i in range(len(self.senders))]

    def rng(self, name: str, i: int) -> random.Random:
        return random.Random(f"{self.seed}/{name}/{i}")

    # ---- mail sets -------------------------------------------------------------------
    def kinds(self, n: int) -> list[str]:
        """The kind of each of *n* messages, in the MIX proportions, shuffled."""
        out: list[str] = []
        for kind, share in MIX:
            out += [kind] * round(n * share)
        out = (out + ["doc"] * n)[:n]
        random.Random(f"{self.seed}/kinds/{n}").shuffle(out)
        return out

    def mailbox(self, n: int):
        """The main mailbox: *n* submissions with attachments."""
        for i, kind in enumerate(self.kinds(n)):
            yield self.submission(i, kind)

    def small(self, n: int):
        """*n* short mails with no attachment (the 20,000-message mailbox)."""
        for i in range(n):
            rng = self.rng("small", i)
            sender = rng.choices(self.senders, self.weights)[0]
            yield self.compose(rng, sender, i, "small", f"{rng.choice(TOPICS)}情况说明（{i}）",
                               self.body(rng, sender, "news"), [])

    def huge(self):
        """One mail with a 50 MB video attached."""
        rng = self.rng("huge", 0)
        sender = self.senders[0]
        att = ("video/mp4", "“道中华之美 美后勤之道”宣传片（完整版）.mp4", mp4(rng, SIZES["huge"]))
        return self.compose(rng, sender, 0, "huge", "视频推文：后勤宣传片（大附件）",
                            self.body(rng, sender, "video"), [att])

    # ---- one submission -------------------------------------------------------------
    def submission(self, i: int, kind: str) -> bytes:
        rng = self.rng("mailbox", i)
        sender = rng.choices(self.senders, self.weights)[0]
        school, topic = sender[2], rng.choice(TOPICS)
        if kind == "doc":
            plan = rng.random() < 0.5
            what = "活动方案" if plan else "新闻稿"
            subject = f"{school}{topic}{what}"
            atts = [("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     f"{school}{topic}{what}（{i}）.docx", docx(rng, school, plan, SIZES["doc"]))]
        elif kind == "photos":
            subject = f"{school}{topic}新闻图片"
            atts = [("image/jpeg", rng.choice([f"IMG_2024{rng.randint(7, 10):02d}{rng.randint(1, 28):02d}_{rng.randrange(10**5):05d}.jpg",
                                               f"{topic}照片{k + 1}.jpg"]),
                     jpeg(rng, int(SIZES["photo"] * rng.uniform(0.8, 1.2))))
                    for k in range(rng.randint(3, 5))]
            what = "news"
        elif kind == "pdf":
            subject = f"关于报送{school}{topic}活动方案的函"
            atts = [("application/pdf", f"{school}{topic}活动方案（盖章版）.pdf",
                     pdf(rng, SIZES["pdf"]))]
            what = "plan"
        else:
            subject = f"{school}{topic}视频"
            atts = [("video/mp4", f"{topic}宣传视频.mp4", mp4(rng, SIZES["video"]))]
            what = "video"
        return self.compose(rng, sender, i, "mailbox", subject,
                            self.body(rng, sender, "plan" if "方案" in subject else what), atts)

    def body(self, rng: random.Random, sender, what: str) -> str:
        school, name = sender[2], sender[1]
        lines = ["各位老师好：", ""]
        if what == "plan":
            lines.append(f"现将{school}后勤党组织参观博物馆（校史馆）活动方案报送如下，请审阅。")
        elif what == "video":
            lines.append(f"报送{school}后勤2024年新亮点新特色视频，微信推文链接："
                         f"https://mp.weixin.qq.com/s/{rng.randbytes(16).hex()}")
        else:
            lines.append(f"{school}后勤党员于{rng.randint(7, 10)}月{rng.randint(1, 28)}日"
                         f"参观了校史馆，现报送参观新闻及图片。")
        lines += ["", "此致", "敬礼！", "", f"{name}", f"{school}后勤处",
                  f"电话：028-{rng.randrange(8000_0000, 8999_9999)}"]
        return "\r\n".join(lines) + "\r\n"

    def compose(self, rng, sender, i, set_name, subject, text, atts) -> bytes:
        addr, name, _school, cs = sender
        when = START + timedelta(minutes=47 * i + rng.randrange(40))
        domain = addr.split("@")[1]
        b = f"=_bench_{rng.randbytes(8).hex()}"
        head = [f"Received: from mail.{domain} (unknown [10.{rng.randrange(256)}.{rng.randrange(256)}.7])",
                f"\tby mx.scgxhq.test with ESMTPS; {format_datetime(when)}",
                f"From: {encode_word(name, cs)} <{addr}>",
                "To: =?UTF-8?B?5oCd5pS/5Lya56eY5Lmm5aSE?= <postmaster@scgxhq.test>",
                f"Subject: {encode_word(subject, cs)}",
                f"Date: {format_datetime(when)}",
                f"Message-ID: <{when:%Y%m%d%H%M%S}.{set_name}{i}.{rng.randbytes(4).hex()}@{domain}>",
                f"X-Mailer: {rng.choice(MAILERS)}", "MIME-Version: 1.0"]
        body = text.encode(cs)
        textpart = [f"Content-Type: text/plain; charset={cs}",
                    "Content-Transfer-Encoding: base64", "", b64(body)]
        if rng.random() < 0.5:       # half the mails carry an HTML alternative, like webmail
            html = ("<html><body>" + "".join(f"<p>{ln}</p>" for ln in text.split("\r\n"))
                    + "</body></html>").encode(cs)
            alt = f"{b}_alt"
            textpart = [f'Content-Type: multipart/alternative; boundary="{alt}"', "",
                        f"--{alt}", *textpart, f"--{alt}",
                        f"Content-Type: text/html; charset={cs}",
                        "Content-Transfer-Encoding: base64", "", b64(html), f"--{alt}--"]
        if not atts:
            return crlf(head + textpart)
        parts = head + [f'Content-Type: multipart/mixed; boundary="{b}"', "",
                        "This is a multi-part message in MIME format.", f"--{b}", *textpart]
        for ctype, fname, data in atts:
            fcs = cs if rng.random() < 0.7 else "utf-8"
            parts += [f"--{b}", f'Content-Type: {ctype}; name="{encode_word(fname, fcs)}"',
                      "Content-Transfer-Encoding: base64",
                      f"Content-Disposition: attachment;{rfc2231('filename', fname, fcs)}",
                      "", b64(data)]
        parts.append(f"--{b}--")
        return crlf(parts)


# ---- building a folder in the local Dovecot --------------------------------------------
BENCH_USER = "postmaster@scgxhq.test"
CACHE = Path(__file__).resolve().parent / ".cache"
E = os.environ  # MAILSTACK_* from `eval "$(scripts/mailstack env)"`


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=E["MAILSTACK_CA_FILE"])


def imap(user: str) -> imaplib.IMAP4_SSL:
    c = imaplib.IMAP4_SSL("localhost", int(E["MAILSTACK_IMAPS_PORT"]), ssl_context=tls())
    c.login(user, E["MAILSTACK_PASSWORD"])
    return c


def status(folder: str) -> tuple[int, int] | None:
    """(MESSAGES, UIDVALIDITY) of the bench user's *folder*, None when it does not exist."""
    with imap(BENCH_USER) as c:
        typ, data = c.status(folder, "(MESSAGES UIDVALIDITY)")
    m = typ == "OK" and re.search(rb"MESSAGES (\d+) UIDVALIDITY (\d+)", data[0])
    return (int(m[1]), int(m[2])) if m else None


def lmtp_deliver(messages, rcpt: str) -> tuple[int, int]:
    """Deliver byte-exact through Dovecot's LMTP; generation runs in a second thread.
    A refused or dropped connection (the stack restarted) is retried for a minute."""
    q: queue.Queue = queue.Queue(16)

    def produce() -> None:
        try:
            for m in messages:
                q.put(m)
        finally:
            q.put(None)
    threading.Thread(target=produce, daemon=True).start()
    n = total = 0
    lmtp = None
    while (raw := q.get()) is not None:
        for attempt in range(30):
            try:
                lmtp = lmtp or smtplib.LMTP("127.0.0.1", int(E["MAILSTACK_LMTP_PORT"]))
                lmtp.sendmail("bench@scgxhq.test", [rcpt], raw)
                break
            except (smtplib.SMTPException, OSError) as e:
                if attempt == 29:
                    raise
                log(f"  LMTP: {e}; retrying")
                lmtp = None
                time.sleep(2)
                if staged(raw):    # it was saved before the connection went
                    break
        n, total = n + 1, total + len(raw)
    if lmtp:
        lmtp.quit()
    return n, total


def reset(address: str) -> None:
    """Empty *address*'s mailboxes (scripts/mailstack reset)."""
    subprocess.run([str(Path(__file__).resolve().parent.parent / "scripts/mailstack"), "reset", address],
                   check=True, stdout=subprocess.DEVNULL)


def copy_in_chunks(src: str, dest: str, chunk: int):
    """Recreate *dest* empty, then copy *src* into it *chunk* messages at a time,
    yielding how many are in *dest* after each copy."""
    exists = status(dest)
    with imap(BENCH_USER) as c:
        if exists:
            c.delete(dest)
        c.create(dest)
        total = int(c.select(src, readonly=True)[1][0])
        for start in range(1, total + 1, chunk):
            end = min(start + chunk - 1, total)
            assert c.copy(f"{start}:{end}", dest)[0] == "OK"
            yield end


def staged(raw: bytes) -> bool:
    """Whether the bench user's INBOX (the staging area) already holds *raw*'s Message-ID."""
    mid = re.search(rb"^Message-ID: (<[^>]+>)", raw, re.MULTILINE | re.IGNORECASE)[1].decode()
    try:
        with imap(BENCH_USER) as c:
            c.select("INBOX")
            return bool(c.uid("SEARCH", "HEADER", "Message-ID", mid)[1][0].split())
    except (imaplib.IMAP4.error, OSError):
        return False


def ensure_folder(folder: str, count: int, spec: str, messages, chunk: int = 2000) -> dict:
    """Build *folder* with *count* messages unless the marker says it is already there.
    Delivery goes to INBOX in chunks, each MOVEd to *folder* (a big INBOX slows LMTP)."""
    stack = os.environ.get("MAILSTACK_NAME")  # a test worker's own stack (tests/conftest.py)
    marker, st = CACHE / (f"{stack}-{folder}.json" if stack else f"{folder}.json"), status(folder)
    if st and marker.exists():
        m = json.loads(marker.read_text())
        if m["spec"] == spec and m["count"] == st[0] == count and m["uidvalidity"] == st[1]:
            log(f"reusing {folder}: {count} messages, {m['bytes'] / 1e9:.2f} GB")
            return m | {"reused": True}
    log(f"building {folder}: {count} messages ({spec})")
    t0 = time.monotonic()
    with imap(BENCH_USER) as c:      # INBOX is the staging area: empty it, drop the old folder
        if int(c.select("INBOX")[1][0]):
            c.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            c.expunge()
        if st:
            c.delete(folder)
        c.create(folder)
    n = total = 0
    messages = iter(messages)
    while n < count:
        k, size = lmtp_deliver(itertools.islice(messages, chunk), BENCH_USER)
        if not k:
            break
        with imap(BENCH_USER) as c:
            c.select("INBOX")
            typ, data = c.uid("MOVE", "1:*", folder)
            assert typ == "OK", data
        n, total = n + k, total + size
        log(f"  {n} in {folder} ({total / 1e6:.0f} MB)")
    st = status(folder)
    assert st and st[0] == n == count, (st, n, count)
    m = {"spec": spec, "count": count, "uidvalidity": st[1], "bytes": total,
         "built_seconds": round(time.monotonic() - t0, 1)}
    CACHE.mkdir(exist_ok=True)
    marker.write_text(json.dumps(m))
    log(f"built {folder} in {m['built_seconds']} s ({total / 1e9:.2f} GB)")
    return m | {"reused": False}


# ---- encodings --------------------------------------------------------------------
def crlf(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n").rstrip("\r\n")


def encode_word(text: str, charset: str) -> str:
    """RFC 2047 B-encoding, split in words of at most 45 bytes (folded lines)."""
    data, words, chunk = text.encode(charset), [], b""
    for ch in text:
        piece = ch.encode(charset)
        if len(chunk) + len(piece) > 45:
            words.append(chunk)
            chunk = b""
        chunk += piece
    words.append(chunk)
    assert b"".join(words) == data
    return "\r\n ".join(f"=?{charset.upper()}?B?{base64.b64encode(w).decode()}?=" for w in words)


def rfc2231(param: str, value: str, charset: str) -> str:
    """`param*=charset''%XX…`, split into `param*0*`, `param*1*` … when long."""
    enc = quote(value.encode(charset), safe="")
    chunks, k = [], 0
    while k < len(enc):
        end = min(k + 60, len(enc))
        while end < len(enc) and "%" in enc[end - 2:end]:
            end -= 1                # never cut a %XX in two
        chunks.append(enc[k:end])
        k = end
    if len(chunks) == 1:
        return f"\r\n\t{param}*={charset}''{enc}"
    return ";".join(f"\r\n\t{param}*{n}*={charset + chr(39) * 2 if n == 0 else ''}{c}"
                    for n, c in enumerate(chunks))


# ---- attachments ------------------------------------------------------------------
def jpeg(rng: random.Random, size: int) -> bytes:
    head = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
            b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65))
            + b"\xff\xc0\x00\x11\x08\x0b\xb8\x0f\xa0\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
            + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")
    payload = rng.randbytes(size - len(head) - 2).replace(b"\xff", b"\xfe")
    return head + payload + b"\xff\xd9"


def mp4(rng: random.Random, size: int) -> bytes:
    ftyp = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    mdat_len = size - len(ftyp)
    return ftyp + mdat_len.to_bytes(4, "big") + b"mdat" + rng.randbytes(mdat_len - 8)


def pdf(rng: random.Random, size: int) -> bytes:
    """A valid one-page PDF: text content plus a JPEG image making up the size."""
    text = (b"BT /F1 14 Tf 72 770 Td (Activity plan - campus museum visit) Tj 0 -22 Td "
            b"(Background, organisation, time, place, programme, contact) Tj ET "
            b"q 400 300 0 0 72 400 cm /Im1 Do Q")
    img = jpeg(rng, size - 1500)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
             b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /XObject /Subtype /Image /Width 4000 /Height 3000 /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
            % (len(img), img)]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, xref))
    return out.getvalue()


def docx(rng: random.Random, school: str, plan: bool, size: int) -> bytes:
    """A real .docx (python-docx opens it): plan with the six template fields, or news."""
    if plan:
        paras = [f"{school}后勤党组织参观博物馆（校史馆）活动方案"] + [
            f"{f}：{x}" for f, x in zip(PLAN_FIELDS, (
                "深入学习贯彻党的二十大精神，铸牢中华民族共同体意识。", f"{school}后勤党委",
                f"2024年{rng.randint(7, 10)}月{rng.randint(1, 28)}日 14:30", f"{school}校史馆",
                "集合、讲解参观、座谈交流、合影留念。",
                f"王老师 028-{rng.randrange(8000_0000, 8999_9999)}"))]
    else:
        paras = [f"{school}后勤党员参观校史馆"] + [
            "近日，后勤党员走进校史馆，追寻学校发展足迹，感悟“道中华之美 美后勤之道”。"] * 6
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           "<w:body>" + "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paras)
           + "</w:body></w:document>")
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": xml,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, content in files.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 7, 1, 9, 0, 0)), content)
        pad = size - buf.tell() - 600
        z.writestr(zipfile.ZipInfo("word/media/image1.jpeg", (2024, 7, 1, 9, 0, 0)),
                   jpeg(rng, max(pad, 1000)))
    return buf.getvalue()
