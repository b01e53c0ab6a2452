#!/usr/bin/env python3
"""fnguard's Python runtime client for the AWS Lambda Runtime API.

A small, standard-library-only implementation of the Runtime API loop
(version 2018-06-01): import the handler named by _HANDLER from
LAMBDA_TASK_ROOT, then forever: GET /runtime/invocation/next, call the
handler with the event and a context object, POST the result to
/invocation/{id}/response, or the exception to /invocation/{id}/error.
An import failure is posted to /runtime/init/error and the process exits.

`fnguard local invoke --runtime python` runs handlers through it, and the
layer ships it as /opt/fnguard/python/bootstrap.py for users who build
their own runtime (an OS-only `provided` runtime):

    exec /opt/fnguard/bin/fnguard wrapper -- python3 /opt/fnguard/python/bootstrap.py

It is not the AWS runtime client (awslambdaric): no streaming responses,
no custom serialisers; handlers return JSON-serialisable values.
"""
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"


class LambdaContext:
    """The context object handlers receive, with the attributes of the AWS one."""

    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = _json_header(headers, "Lambda-Runtime-Cognito-Identity")
        self.client_context = _json_header(headers, "Lambda-Runtime-Client-Context")

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_header(headers, name):
    value = headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


class RuntimeClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self._host, self._port = host, int(port)
        self._conn = None

    def _request(self, method, path, body=None, headers=None):
        # One keep-alive connection; reconnect once if the peer closed it.
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=None)
            try:
                self._conn.request(method, API_PREFIX + path, body=body, headers=headers or {})
                resp = self._conn.getresponse()
                data = resp.read()
                return resp, data
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 1:
                    raise

    def next(self):
        resp, data = self._request("GET", "/invocation/next")
        if resp.status != 200:
            raise RuntimeError("Runtime API /invocation/next answered %d" % resp.status)
        return dict(resp.getheaders()), data

    def respond(self, request_id, payload):
        self._request("POST", "/invocation/%s/response" % request_id, payload,
                      {"Content-Type": "application/json"})

    def error(self, request_id, error):
        self._post_error("/invocation/%s/error" % request_id, error)

    def init_error(self, error):
        self._post_error("/init/error", error)

    def _post_error(self, path, error):
        body = json.dumps(error).encode()
        self._request("POST", path, body, {
            "Content-Type": "application/json",
            "Lambda-Runtime-Function-Error-Type": error["errorType"],
        })


def error_object(exc, error_type=None):
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def load_handler(spec, task_root):
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise ValueError("_HANDLER must be MODULE.FUNCTION, not %r" % spec)
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError("module %r has no function %r" % (module_name, function_name))
    return handler


def main():
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n")
        return 1
    client = RuntimeClient(address)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""), task_root)
    except Exception as exc:  # the runtime reports any import failure, as AWS's does
        client.init_error(error_object(exc, "Runtime.ImportModuleError"))
        sys.stderr.write("bootstrap: cannot load the handler: %s\n" % exc)
        return 1
    while True:
        headers, body = client.next()
        context = LambdaContext(headers)
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        try:
            event = json.loads(body) if body else None
            result = handler(event, context)
            payload = json.dumps(result).encode()
        except Exception as exc:
            traceback.print_exc()
            client.error(context.aws_request_id, error_object(exc))
            continue
        client.respond(context.aws_request_id, payload)


if __name__ == "__main__":
    sys.exit(main())
