import Foundation

/// An EventBridge Scheduler schedule: its expression and the time zone its wall times are read in
/// (EventBridge Scheduler User Guide, "Schedule types": `at(yyyy-mm-ddThh:mm:ss)`, `rate(value
/// unit)`, `cron(minutes hours day-of-month month day-of-week year)`; IANA time zone names, UTC by
/// default). Times are whole minutes, as the service's "60 second precision" gives them.
public struct Schedule: Sendable {
    public enum Expression: Sendable, Equatable {
        /// Once, at this wall time.
        case at(CivilTime)
        /// Every this many seconds, the first time when the schedule starts.
        case rate(seconds: Int)
        case cron(Cron)
    }

    public let text: String
    public let expression: Expression
    public let timeZone: TimeZone

    public init(_ text: String, timeZone name: String = "UTC") throws(ScheduleError) {
        guard let zone = TimeZone(identifier: name) else {
            throw ScheduleError("unknown time zone \"\(name)\": use an IANA name such as Europe/Paris or UTC")
        }
        self.text = text
        timeZone = zone
        expression = try Self.parse(text)
    }

    static func parse(_ text: String) throws(ScheduleError) -> Expression {
        func body(_ name: String) -> Substring? {
            guard text.hasPrefix(name + "("), text.hasSuffix(")") else { return nil }
            return text.dropFirst(name.count + 1).dropLast()
        }
        if let at = body("at") {
            guard let time = CivilTime(iso: at) else {
                throw ScheduleError("\"\(text)\": at() takes a wall time as yyyy-mm-ddThh:mm:ss")
            }
            return .at(time)
        }
        if let rate = body("rate") { return .rate(seconds: try Self.rate(rate, in: text)) }
        if let cron = body("cron") {
            do { return .cron(try Cron(cron)) } catch { throw ScheduleError("\"\(text)\": \(error.description)") }
        }
        throw ScheduleError("\"\(text)\" is not at(...), rate(...) or cron(...)")
    }

    /// "rate(value unit)": a positive whole value; minute, hour or day, singular for 1 and plural
    /// otherwise (EventBridge User Guide, "Rate expressions": "rate(1 hours) and rate(5 hour)
    /// aren't valid").
    static func rate(_ body: Substring, in text: String) throws(ScheduleError) -> Int {
        let parts = body.split(separator: " ", omittingEmptySubsequences: false)
        let units = ["minute": 60, "hour": 3600, "day": 86400]
        guard parts.count == 2, let value = Int(parts[0]), value > 0 else {
            throw ScheduleError("\"\(text)\": rate() takes a positive whole number and a unit, as rate(5 minutes)")
        }
        let unit = String(parts[1])
        let singular = value == 1 ? unit : String(unit.dropLast())
        guard let seconds = units[singular], (value == 1) == (unit == singular) else {
            throw ScheduleError(
                "\"\(text)\": the unit is minute, hour or day, singular for 1 and plural otherwise (rate(1 hour), rate(5 hours))"
            )
        }
        return value * seconds
    }

    /// When a schedule that starts at `start` first fires: a rate at once ("If you do not provide a
    /// StartDate for a rate-based schedule, your schedule starts invoking the target immediately"),
    /// a cron or one-time schedule at its first wall time from there on; nil when there is none.
    public func first(from start: Date) -> Date? {
        if case .rate = expression { return start }
        return firing(after: start, orAt: true)
    }

    /// The firing after one at `instant`: a rate one interval later, a cron at its next wall time
    /// (a wall time daylight saving skips does not fire; one it repeats fires once, the first time:
    /// "Schedule types", "Daylight saving time"), a one-time schedule never again.
    public func next(after instant: Date) -> Date? { firing(after: instant, orAt: false) }

    func firing(after instant: Date, orAt inclusive: Bool) -> Date? {
        func counts(_ fires: Date) -> Bool { inclusive ? fires >= instant : fires > instant }
        switch expression {
        case .rate(let seconds): return instant.addingTimeInterval(TimeInterval(seconds))
        case .at(let time):
            guard let fires = instantOf(time), counts(fires) else { return nil }
            return fires
        case .cron(let cron):
            let local = CivilTime(
                secondsSince1970: Int(instant.timeIntervalSince1970.rounded(.down)) + offset(at: instant))
            var found: Date?
            cron.forEachTime(from: local) { time in
                guard let fires = instantOf(time), counts(fires) else { return true }  // skipped, or passed
                found = fires
                return false
            }
            return found
        }
    }

    func offset(at instant: Date) -> Int { timeZone.secondsFromGMT(for: instant) }

    /// The earliest instant whose wall time here is `time`; nil when daylight saving skips it. The
    /// offsets a day before and after cover every transition a wall time can fall between.
    func instantOf(_ time: CivilTime) -> Date? {
        let asIfUTC = time.secondsSince1970
        let candidates = [-86400, 0, 86400].map { probe in
            asIfUTC - offset(at: Date(timeIntervalSince1970: TimeInterval(asIfUTC + probe)))
        }
        let valid = candidates.filter { offset(at: Date(timeIntervalSince1970: TimeInterval($0))) == asIfUTC - $0 }
        return valid.min().map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}

/// A schedule EventBridge Scheduler would refuse, in one sentence.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ why: String) { description = "invalid schedule: \(why)" }
}
