/// The Python side of the protocol (`docs/python-factors.md`): written once per content to FactorLab's cache
/// directory and run as `python -u runner-<hash>.py` by each worker.
enum RunnerScript {
    static let source = #"""
"""FactorLab's Python factor runner (protocol 1). Started by a FactorLab worker as `python -u runner.py`; reads
requests on stdin and writes responses on the original stdout; everything else the process prints goes to stderr,
which the worker keeps in the task's log.

Frame (both directions): b"FLPY", header length (u32 little-endian), the header (UTF-8 JSON), then
header["payload_bytes"] bytes: the arrays the header lists, in order, raw little-endian, C order.
"""
import ast
import contextlib
import hashlib
import io
import json
import linecache
import os
import resource
import struct
import sys
import traceback

MAGIC = b"FLPY"
PROTOCOL = 1
RUNNER_FILE = os.path.abspath(__file__)


def read_exactly(stream, n):
    buffer = bytearray(n)
    view = memoryview(buffer)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            raise EOFError("the worker closed the pipe")
        got += k
    return buffer


def read_frame(stream):
    head = read_exactly(stream, 8)
    if bytes(head[:4]) != MAGIC:
        raise ValueError("bad frame magic %r" % bytes(head[:4]))
    (length,) = struct.unpack("<I", head[4:8])
    header = json.loads(bytes(read_exactly(stream, length)).decode("utf-8"))
    payload = read_exactly(stream, int(header.get("payload_bytes", 0)))
    return header, payload


def write_frame(stream, header, arrays=()):
    blobs = [memoryview(a).cast("B") for a in arrays]
    header = dict(header, payload_bytes=sum(len(b) for b in blobs))
    encoded = json.dumps(header).encode("utf-8")
    stream.write(MAGIC + struct.pack("<I", len(encoded)) + encoded)
    for b in blobs:
        stream.write(b)
    stream.flush()


def user_traceback(error, filename):
    """The traceback without the runner's own frames: what the user's source did, with its line numbers."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if os.path.abspath(f.filename) != RUNNER_FILE]
    lines = ["Traceback (most recent call last):\n"] + traceback.format_list(frames)
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)


class FactorModule:
    def __init__(self, source, filename):
        # Registered with linecache, so that tracebacks quote the user's lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec", dont_inherit=True)
        namespace = {"__name__": "factorlab_factor", "__file__": filename}
        exec(code, namespace)
        self.fields = namespace.get("fields")
        self.lookback = namespace.get("lookback", 0)
        self.function = namespace.get("factor")
        problems = []
        if not isinstance(self.fields, (list, tuple)) or not self.fields or not all(isinstance(f, str) and f for f in self.fields):
            problems.append('module-level `fields` must be a non-empty list of field names, e.g. fields = ["close", "volume"]')
        if isinstance(self.lookback, bool) or not isinstance(self.lookback, int) or self.lookback < 0:
            problems.append("module-level `lookback` must be an integer >= 0 (rows loaded before the window), e.g. lookback = 60")
        if not callable(self.function):
            problems.append("the source must define `def factor(data):`")
        if problems:
            raise ValueError("; ".join(problems))
        self.fields = [f.lower().lstrip("$") for f in self.fields]


class Runner:
    def __init__(self, out):
        self.out = out
        self.modules = {}
        import numpy
        import pandas
        self.np = numpy
        self.pd = pandas

    def module(self, source, filename):
        key = hashlib.sha256((filename + "\0" + source).encode("utf-8")).hexdigest()
        if key not in self.modules:
            self.modules[key] = FactorModule(source, filename)
        return self.modules[key]

    def hello(self, header, payload):
        import platform
        return {"ok": True, "protocol": PROTOCOL, "python": platform.python_version(),
                "numpy": self.np.__version__, "pandas": self.pd.__version__}, ()

    def check(self, header, payload):
        m = self.module(header["source"], header["filename"])
        return {"ok": True, "fields": m.fields, "lookback": m.lookback}, ()

    def normalize(self, header, payload):
        tree = ast.parse(header["source"], header["filename"])
        return {"ok": True, "normalized": ast.dump(tree, annotate_fields=True, include_attributes=False)}, ()

    def run(self, header, payload):
        np, pd = self.np, self.pd
        m = self.module(header["source"], header["filename"])
        n, t = header["shape"]
        data = {}
        offset = 0
        for a in header["arrays"]:
            dtype = np.dtype(a["dtype"])
            array = np.frombuffer(payload, dtype=dtype, count=n * t, offset=offset).reshape(n, t)
            offset += dtype.itemsize * n * t
            data[a["name"]] = array.view(np.bool_) if a["name"] == "mask" else array
        instruments = list(header["instruments"])
        dates = pd.DatetimeIndex(header["dates"])
        data["instruments"] = np.array(instruments, dtype=object)
        data["dates"] = dates
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            result = m.function(data)
        if isinstance(result, pd.DataFrame):
            result = result.reindex(index=instruments, columns=dates)
        result = np.ascontiguousarray(np.asarray(result, dtype=np.float64))
        if result.shape != (n, t):
            raise ValueError("factor(data) returned an array of shape %s; it must be (instruments, dates) = (%d, %d), "
                             "laid out like data[%r]" % (tuple(result.shape), n, t, m.fields[0]))
        return {"ok": True, "output": captured.getvalue()[-20000:]}, (result,)


def limit_memory():
    """Caps the address space at what the runner uses now plus FACTOR_PYTHON_MEMORY_MB."""
    megabytes = int(os.environ.get("FACTOR_PYTHON_MEMORY_MB", "0") or 0)
    if megabytes <= 0:
        return None
    try:
        with open("/proc/self/status") as status:
            vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration):  # no /proc (macOS): run without the cap rather than not at all
        sys.stderr.write("factorlab runner: cannot measure the address space; FACTOR_PYTHON_MEMORY_MB is not enforced here\n")
        return None
    soft = vm_kb * 1024 + megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return megabytes


def main():
    stdin = os.fdopen(os.dup(0), "rb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a factor that reads stdin reads nothing, not the next request
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints from C code or os.write(1) now reach stderr, not the protocol
    sys.stdout = sys.stderr
    try:
        runner = Runner(out)
    except Exception as error:  # numpy or pandas missing: say so in the first frame
        write_frame(out, {"ok": False, "error": "%s: %s" % (type(error).__name__, error),
                          "traceback": traceback.format_exc()})
        return
    megabytes = limit_memory()
    handlers = {"hello": runner.hello, "check": runner.check, "normalize": runner.normalize, "run": runner.run}
    while True:
        try:
            header, payload = read_frame(stdin)
        except EOFError:
            return
        op = header.get("op")
        filename = header.get("filename", "<factor>")
        try:
            if op not in handlers:
                raise ValueError("unknown request %r" % op)
            if op == "run":
                megabytes = limit_memory()  # the cap counts from what is resident now, not from earlier factors' leftovers
            response, arrays = handlers[op](header, payload)
        except MemoryError as error:
            response, arrays = {"ok": False, "restart": True, "error": "MemoryError: the factor exceeded its memory cap of %s MB "
                                "(FACTOR_PYTHON_MEMORY_MB)" % megabytes, "traceback": user_traceback(error, filename)}, ()
        except SyntaxError as error:
            response, arrays = {"ok": False, "error": "SyntaxError: %s (%s, line %s)" % (error.msg, error.filename, error.lineno),
                                "line": error.lineno, "traceback": "".join(traceback.format_exception_only(type(error), error))}, ()
        except BaseException as error:  # SystemExit and KeyboardInterrupt from user code fail the factor, not the runner
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
            response, arrays = {"ok": False, "error": "%s: %s" % (type(error).__name__, error),
                                "line": frames[-1].lineno if frames else None,
                                "traceback": user_traceback(error, filename)}, ()
        del payload
        write_frame(out, response, arrays)


if __name__ == "__main__":
    main()
"""#
}
