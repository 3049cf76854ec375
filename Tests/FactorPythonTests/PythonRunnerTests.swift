import FactorCore
import FactorPython
import Foundation
import Testing

/// Whether this machine has a python with numpy and pandas for the runner.
enum PythonForTests {
    static let available: Bool = (try? PythonFactorRunner().versions()) != nil
}

/// The runner against real Python processes: values, and every way a factor can fail alone.
@Suite("Python factor runner", .serialized, .enabled(if: PythonForTests.available,
       "no python with numpy and pandas (run `factorlab python-setup` or set FACTOR_PYTHON); Python runner tests skipped"))
struct PythonRunnerTests {
    /// Two instruments, 30 daily rows; the second listed on row 5 and absent on row 12.
    static func data() -> MarketData {
        let n = 2, t = 30
        var close = [Double](repeating: .nan, count: n * t)
        for r in 0..<t { close[r] = 10 + Double(r) * 0.1 + sin(Double(r)) }
        for r in 5..<t where r != 12 { close[t + r] = 20 - Double(r) * 0.2 + cos(Double(r)) }
        let calendar = MarketCalendar(times: (0..<t).map { Timestamp(86_400 * (18_000 + $0)) }, frequency: .day)
        return MarketData(instruments: ["SH600000", "SH600001"], calendar: calendar, spans: [0..<t, 5..<t],
                          fields: ["close": Panel(instrumentCount: n, length: t, values: close)],
                          membership: Membership(rows: [[0..<t], [5..<t]], length: t))
    }

    func runner(timeout: Double = 60, memory: Int = 1024) -> PythonFactorRunner {
        var settings = PythonSettings.fromEnvironment()
        settings.timeoutSeconds = timeout
        settings.memoryMegabytes = memory
        return PythonFactorRunner(settings: settings)
    }

    static let momentum = """
    import numpy as np
    fields = ["close"]
    lookback = 5

    def factor(data):
        close = data["close"]
        previous = np.full_like(close, np.nan)
        previous[:, 5:] = close[:, :-5]
        print("computed", close.shape)
        return close / previous - 1
    """

    @Test func aFactorSeesItsFieldsOnTheCalendarAndItsShiftIsRef() throws {
        let data = Self.data()
        let r = runner()
        #expect(try r.check(source: Self.momentum, filename: "MOM5.py") == .init(fields: ["close"], lookback: 5))
        let out = try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: data)
        #expect(out.printed == "computed (2, 30)\n")
        let close = data.fields["close"]!
        for i in 0..<2 {
            for t in 0..<30 {
                let expected = t >= 5 ? close[i, t] / close[i, t - 5] - 1 : .nan
                let got = out.panel[i, t]
                #expect(expected.isNaN ? got.isNaN : got == expected, "instrument \(i) row \(t): \(got) vs \(expected)")
            }
        }
        // The mask, dates and instruments come with the fields; a DataFrame indexed by instrument is laid out too.
        let frame = """
        import pandas as pd
        fields = ["close"]
        def factor(data):
            assert data["mask"].dtype == bool and data["mask"][1, :5].sum() == 0 and data["mask"][0].all()
            assert list(data["instruments"]) == ["SH600000", "SH600001"] and str(data["dates"][0].date()) == "2019-04-14"
            return pd.DataFrame(data["close"], index=data["instruments"], columns=data["dates"]).iloc[::-1] * 2
        """
        let doubled = try r.run(source: frame, filename: "FRAME.py", fields: ["close"], data: data)
        #expect(doubled.panel[0, 3] == close[0, 3] * 2 && doubled.panel[1, 7] == close[1, 7] * 2)
        #expect(r.starts == 1)
    }

    @Test func anExceptionFailsTheFactorWithItsLineAndTheProcessServesOn() throws {
        let r = runner()
        let source = "fields = [\"close\"]\n\ndef factor(data):\n    x = data[\"close\"]\n    return x / undefined_name\n"
        do {
            _ = try r.run(source: source, filename: "BROKEN.py", fields: ["close"], data: Self.data())
            Issue.record("the factor should have failed")
        } catch {
            #expect(error.kind == .raised && error.line == 5 && error.message == "NameError: name 'undefined_name' is not defined")
            #expect(error.traceback?.contains("File \"BROKEN.py\", line 5, in factor") == true)
            #expect(error.traceback?.contains("return x / undefined_name") == true)
        }
        let shape = "import numpy as np\nfields = [\"close\"]\ndef factor(data):\n    return np.zeros(3)\n"
        #expect { try r.run(source: shape, filename: "SHAPE.py", fields: ["close"], data: Self.data()) } throws: {
            "\($0)".contains("returned an array of shape (3,); it must be (instruments, dates) = (2, 30)")
        }
        #expect { try r.check(source: "fields = \"close\"\ndef factor(data): pass\n", filename: "DECL.py") } throws: {
            "\($0)".contains("`fields` must be a non-empty list")
        }
        #expect { try r.check(source: "def factor(data:\n", filename: "SYNTAX.py") } throws: {
            ($0 as? PythonFailure)?.line == 1 && "\($0)".contains("SyntaxError")
        }
        #expect(try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: Self.data()).panel.instrumentCount == 2)
        #expect(r.starts == 1)
    }

    @Test func aFactorThatNeverReturnsIsStoppedAtTheTimeout() throws {
        let r = runner(timeout: 2)
        let started = Date()
        #expect { try r.run(source: "import time\nfields = [\"close\"]\ndef factor(data):\n    while True: time.sleep(1)\n",
                            filename: "SLEEP.py", fields: ["close"], data: Self.data()) } throws: {
            ($0 as? PythonFailure)?.kind == .timeout && "\($0)".contains("longer than 2 s")
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: Self.data()).panel.length == 30)
        #expect(r.starts == 2)
    }

    @Test func aFactorThatAllocatesWithoutBoundHitsTheMemoryCap() throws {
        let r = runner(memory: 300)
        #expect { try r.run(source: "fields = [\"close\"]\ndef factor(data):\n    hoard = []\n    while True: hoard.append(bytearray(50_000_000))\n",
                            filename: "HOG.py", fields: ["close"], data: Self.data()) } throws: {
            ($0 as? PythonFailure)?.kind == .memory && "\($0)".contains("memory cap of 300 MB")
        }
        #expect(try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: Self.data()).panel.length == 30)
        #expect(r.starts == 2)
    }

    @Test func aFactorThatKillsItsProcessFailsAloneAndTheNextRunsInANewOne() throws {
        let r = runner()
        #expect { try r.run(source: "import os\nfields = [\"close\"]\ndef factor(data):\n    os.write(2, b'going down\\n')\n    os._exit(1)\n",
                            filename: "EXIT.py", fields: ["close"], data: Self.data()) } throws: {
            ($0 as? PythonFailure)?.kind == .crashed && "\($0)".contains("exit status 1")
        }
        #expect(try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: Self.data()).panel.length == 30)
        #expect(r.starts == 2)
        // sys.exit inside the factor is an exception like any other: the process stays.
        #expect { try r.run(source: "import sys\nfields = [\"close\"]\ndef factor(data):\n    sys.exit(3)\n",
                            filename: "SYSEXIT.py", fields: ["close"], data: Self.data()) } throws: { "\($0)".contains("SystemExit: 3") }
        #expect(r.starts == 2)
    }

    @Test func aProcessThatDiedBetweenCallsIsReplacedBeforeTheNextFactor() throws {
        let r = runner()
        // This factor returns normally but leaves a timer that kills its process a moment later.
        let saboteur = "import os, threading\nfields = [\"close\"]\ndef factor(data):\n    threading.Timer(0.2, os._exit, [1]).start()\n    return data[\"close\"] * 1.0\n"
        #expect(try r.run(source: saboteur, filename: "TIMER.py", fields: ["close"], data: Self.data()).panel.length == 30)
        Thread.sleep(forTimeInterval: 1)
        // The next factor is not blamed: it runs in a fresh process.
        #expect(try r.run(source: Self.momentum, filename: "MOM5.py", fields: ["close"], data: Self.data()).panel.length == 30)
        #expect(r.starts == 2)
        // A factor reading stdin reads nothing (not the next request), and the runner serves on.
        let reader = "import sys\nfields = [\"close\"]\ndef factor(data):\n    assert sys.stdin.read() == ''\n    return data[\"close\"]\n"
        #expect(try r.run(source: reader, filename: "STDIN.py", fields: ["close"], data: Self.data()).panel.length == 30)
        #expect(r.starts == 2)
    }

    @Test func normalisedSourceIgnoresCommentsAndSpacing() throws {
        let r = runner()
        let a = try r.normalize(source: "fields = ['close']\ndef factor(data):\n    return data['close']  # the close\n", filename: "A.py")
        let b = try r.normalize(source: "# a comment\nfields = [ 'close' ]\n\ndef factor( data ):\n    return data[\"close\"]\n", filename: "B.py")
        let c = try r.normalize(source: "fields = ['close']\ndef factor(data):\n    return -data['close']\n", filename: "C.py")
        #expect(a == b && a != c)
    }

    @Test func switchedOffOrMissingInterpretersAreRefusedWithTheFix() throws {
        var off = PythonSettings.fromEnvironment()
        off.enabled = false
        #expect { try PythonFactorRunner(settings: off).versions() } throws: { ($0 as? PythonFailure)?.kind == .disabled }
        let missing = PythonSettings(interpreter: "/nonexistent/python3")
        #expect { try PythonFactorRunner(settings: missing).versions() } throws: {
            ($0 as? PythonFailure)?.kind == .unavailable && "\($0)".contains("factorlab python-setup")
        }
        #expect(PythonSettings.fromEnvironment(["FACTOR_PYTHON_FACTORS": "off"]).enabled == false)
        #expect(PythonSettings.fromEnvironment(["FACTOR_PYTHON_TIMEOUT": "12", "FACTOR_PYTHON_MEMORY_MB": "100"]).timeoutSeconds == 12)
    }
}
