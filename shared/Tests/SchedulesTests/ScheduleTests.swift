import Foundation
import Schedules
import Testing

/// Schedule expressions as EventBridge Scheduler reads them. The oracle: the EventBridge Scheduler
/// User Guide's "Schedule types on EventBridge Scheduler"
/// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html) and the EventBridge
/// User Guide's cron and rate expression pages
/// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html), whose
/// examples are the cases below.
@Suite struct ScheduleTests {
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text + "Z")! }

    func next(_ expression: String, after: String, zone: String = "UTC") throws -> Date? {
        try Schedule(expression, timeZone: zone).next(after: Self.utc(after))
    }

    /// The guide's cron examples, each from a moment where its next firing is plain.
    @Test(arguments: [
        ("cron(0 10 * * ? *)", "2026-12-08T09:00:00", "2026-12-08T10:00:00"),  // 10:00 every day
        ("cron(0 10 * * ? *)", "2026-12-08T10:00:00", "2026-12-09T10:00:00"),
        ("cron(15 12 * * ? *)", "2026-12-08T12:15:30", "2026-12-09T12:15:00"),
        ("cron(0 18 ? * MON-FRI *)", "2026-12-11T19:00:00", "2026-12-14T18:00:00"),  // Friday evening → Monday
        ("cron(0 8 1 * ? *)", "2026-12-08T00:00:00", "2027-01-01T08:00:00"),
        ("cron(0/15 * * * ? *)", "2026-12-08T10:07:00", "2026-12-08T10:15:00"),
        ("cron(0/10 * ? * MON-FRI *)", "2026-12-12T00:00:00", "2026-12-14T00:00:00"),  // Saturday → Monday
        ("cron(0/5 8-17 ? * MON-FRI *)", "2026-12-08T17:55:00", "2026-12-09T08:00:00"),  // last at 17:55
        ("cron(0/30 20-2 ? * MON-FRI *)", "2026-12-08T23:30:00", "2026-12-09T00:00:00"),  // a range through midnight
        ("cron(0/30 20-2 ? * MON-FRI *)", "2026-12-09T02:30:00", "2026-12-09T20:00:00"),
        ("cron(15 10 ? * 6L 2019-2022)", "2022-12-01T00:00:00", "2022-12-30T10:15:00"),  // the last Friday
        ("cron(0 9 ? * 2#1 *)", "2026-12-08T00:00:00", "2027-01-04T09:00:00"),  // the first Monday
        ("cron(0 0 15W * ? *)", "2026-08-01T00:00:00", "2026-08-14T00:00:00"),  // the 15th is a Saturday
        ("cron(0 0 15W * ? *)", "2026-11-01T00:00:00", "2026-11-16T00:00:00"),  // ... a Sunday
        ("cron(0 0 1W * ? *)", "2026-02-28T00:00:00", "2026-03-02T00:00:00"),  // ... not into the month before
        ("cron(0 0 L * ? *)", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),  // the last day, in a leap year
        ("cron(0 12 ? JAN,JUL SUN 2027)", "2026-12-08T00:00:00", "2027-01-03T12:00:00"),
    ])
    func cronExamples(expression: String, after: String, expected: String) throws {
        #expect(try next(expression, after: after) == Self.utc(expected))
    }

    @Test func aCronWithNoTimeLeftFiresNoMore() throws {
        #expect(try next("cron(15 10 ? * 6L 2019-2022)", after: "2022-12-30T10:15:00") == nil)
    }

    /// "Daylight saving time": "if a cron expression falls on a non-existent date and time, your
    /// schedule invocation is skipped"; when time shifts back, "your schedule runs only once".
    @Test func daylightSavingSkipsAMissingTimeAndRunsARepeatedOneOnce() throws {
        let zone = "America/Los_Angeles"
        // 2026-03-08: 02:00 becomes 03:00, so 02:30 does not exist that day.
        #expect(
            try next("cron(30 2 * * ? *)", after: "2026-03-07T10:31:00", zone: zone) == Self.utc("2026-03-09T09:30:00"))
        // 2026-11-01: 01:30 happens twice (08:30Z, then 09:30Z); it fires at the first only.
        #expect(
            try next("cron(30 1 * * ? *)", after: "2026-11-01T08:00:00", zone: zone) == Self.utc("2026-11-01T08:30:00"))
        #expect(
            try next("cron(30 1 * * ? *)", after: "2026-11-01T08:30:00", zone: zone) == Self.utc("2026-11-02T09:30:00"))
    }

    /// at(): once, at a wall time of the schedule's zone.
    @Test func aOneTimeScheduleFiresOnceAtItsWallTime() throws {
        let schedule = try Schedule("at(2026-12-24T18:00:00)", timeZone: "Europe/Paris")
        #expect(schedule.first(from: Self.utc("2026-12-08T00:00:00")) == Self.utc("2026-12-24T17:00:00"))
        #expect(schedule.next(after: Self.utc("2026-12-24T17:00:00")) == nil)
        #expect(schedule.first(from: Self.utc("2026-12-25T00:00:00")) == nil, "a time gone by never fires")
        let started = Self.utc("2026-12-24T17:00:00").addingTimeInterval(0.5)
        #expect(schedule.first(from: started) == nil, "nor one half a second gone")
    }

    /// rate(): at once, then every interval after the last firing.
    @Test func aRateFiresAtOnceThenEveryInterval() throws {
        let start = Self.utc("2026-12-08T10:00:07")
        let schedule = try Schedule("rate(5 minutes)")
        #expect(schedule.first(from: start) == start)
        #expect(schedule.next(after: start) == start.addingTimeInterval(300))
        #expect(try Schedule("rate(1 day)").next(after: start) == start.addingTimeInterval(86400))
    }

    @Test(arguments: [
        ("rate(1 hours)", "singular for 1"),
        ("rate(5 hour)", "singular for 1"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(5 seconds)", "minute, hour or day"),
        ("cron(0 10 * * 1 *)", "cannot both be given"),
        ("cron(0 10 ? * ? *)", "cannot both be given"),
        ("cron(0 10 * * ?)", "six fields"),
        ("cron(60 * * * ? *)", "minutes \"60\""),
        ("cron(0 24 * * ? *)", "hours \"24\""),
        ("cron(0 0 ? * 3#1,6#3 *)", "# takes one day"),
        ("cron(0 0 ? * 8L *)", "L follows a day"),
        ("cron(0 0 32W * ? *)", "W follows a day"),
        ("cron(0 0 * * ? 2200)", "year \"2200\""),
        ("at(2026-02-30T00:00:00)", "yyyy-mm-ddThh:mm:ss"),
        ("every(5 minutes)", "is not at(...), rate(...) or cron(...)"),
    ])
    func invalidExpressionsAreRefused(expression: String, fragment: String) {
        #expect {
            try Schedule(expression)
        } throws: { error in
            "\(error)".hasPrefix("invalid schedule: ") && "\(error)".contains(fragment)
        }
    }

    @Test func anUnknownTimeZoneIsRefused() {
        #expect(throws: ScheduleError.self) { try Schedule("rate(1 minute)", timeZone: "Mars/Olympus") }
    }
}
