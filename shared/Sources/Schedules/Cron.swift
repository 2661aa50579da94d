/// `cron(minutes hours day-of-month month day-of-week year)` (EventBridge User Guide, "Cron
/// expressions"): six fields; `, - * /` everywhere; `?` in exactly one of the two day fields;
/// `L` (last) and `W` (nearest weekday) in day-of-month; `L` and `#` (nth) in day-of-week, whose
/// days are 1 (SUN) to 7 (SAT). A range may wrap (`20-2` hours runs through midnight).
public struct Cron: Sendable, Equatable {
    let minutes: [Int]
    let hours: [Int]
    let months: [Int]
    let years: [Int]
    let days: Days

    enum Days: Sendable, Equatable {
        case ofMonth(Set<Int>)
        case lastOfMonth
        case weekdayNearest(Int)
        case ofWeek(Set<Int>)
        case lastInMonth(weekday: Int)
        case nth(weekday: Int, Int)
    }

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    init(_ body: Substring) throws(Refusal) {
        let fields = body.split(separator: " ")
        guard fields.count == 6 else {
            throw Refusal(
                description:
                    "cron() takes six fields (minutes hours day-of-month month day-of-week year), not \(fields.count)")
        }
        minutes = try Self.values(fields[0], "minutes", 0...59).sorted()
        hours = try Self.values(fields[1], "hours", 0...23).sorted()
        months = try Self.values(fields[3], "month", 1...12, names: Self.monthNames).sorted()
        years = try Self.values(fields[5], "year", 1970...2199, wraps: false).sorted()
        switch (fields[2] == "?", fields[4] == "?") {
        case (true, false): days = try Self.dayOfWeek(fields[4])
        case (false, true): days = try Self.dayOfMonth(fields[2])
        default:
            throw Refusal(
                description:
                    "day-of-month and day-of-week cannot both be given: put ? in one of them, as cron(0 10 * * ? *)")
        }
    }

    static func dayOfMonth(_ field: Substring) throws(Refusal) -> Days {
        if field == "L" { return .lastOfMonth }
        if field.hasSuffix("W") {
            guard let day = Int(field.dropLast()), (1...31).contains(day) else {
                throw Refusal(description: "day-of-month \(field): W follows a day from 1 to 31, as 3W")
            }
            return .weekdayNearest(day)
        }
        return .ofMonth(try values(field, "day-of-month", 1...31))
    }

    static func dayOfWeek(_ field: Substring) throws(Refusal) -> Days {
        func weekday(_ text: Substring) -> Int? {
            Int(text).flatMap { (1...7).contains($0) ? $0 : nil }
                ?? dayNames.firstIndex(of: text.uppercased()).map { $0 + 1 }
        }
        if field == "L" { return .ofWeek([7]) }
        if field.hasSuffix("L") {
            guard let day = weekday(field.dropLast()) else {
                throw Refusal(description: "day-of-week \(field): L follows a day from 1 (SUN) to 7 (SAT), as 6L")
            }
            return .lastInMonth(weekday: day)
        }
        if field.contains("#") {
            let parts = field.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count == 2, let day = weekday(parts[0]), let nth = Int(parts[1]), (1...5).contains(nth) else {
                throw Refusal(
                    description:
                        "day-of-week \(field): # takes one day and its rank 1 to 5, as 3#2 (the second Tuesday)")
            }
            return .nth(weekday: day, nth)
        }
        return .ofWeek(try values(field, "day-of-week", 1...7, names: dayNames))
    }

    /// A field's values: items joined by `,`, each `*`, a value, a range `a-b`, and any of these
    /// with a step `/n`; names (JAN, MON) where the field has them.
    static func values(
        _ field: Substring, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], wraps: Bool = true
    ) throws(Refusal) -> Set<Int> {
        func refuse(_ item: Substring) -> Refusal {
            Refusal(
                description:
                    "\(name) \"\(item)\" is not a value from \(range.lowerBound) to \(range.upperBound), a range or a step"
            )
        }
        func value(_ text: Substring) -> Int? {
            if let number = Int(text), range.contains(number) { return number }
            return names.firstIndex(of: text.uppercased()).map { $0 + range.lowerBound }
        }
        var result: Set<Int> = []
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count) else { throw refuse(item) }
            var step = 1
            if parts.count == 2 {
                guard let number = Int(parts[1]), number > 0 else { throw refuse(item) }
                step = number
            }
            var sequence: [Int]
            if parts[0] == "*" {
                sequence = Array(range)
            } else if parts[0].contains("-") {
                let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count == 2, let low = value(bounds[0]), let high = value(bounds[1]), low <= high || wraps
                else {
                    throw refuse(item)
                }
                sequence =
                    low <= high ? Array(low...high) : Array(low...range.upperBound) + Array(range.lowerBound...high)
            } else {
                guard let start = value(parts[0]) else { throw refuse(item) }
                // `a/n` runs from a to the field's end by n.
                sequence = parts.count == 2 ? Array(start...range.upperBound) : [start]
            }
            result.formUnion(stride(from: 0, to: sequence.count, by: step).map { sequence[$0] })
        }
        return result
    }

    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        let length = CivilTime.days(inMonth: month, of: year)
        let weekday = CivilTime.weekday(year: year, month: month, day: day)
        switch days {
        case .ofMonth(let set): return set.contains(day)
        case .lastOfMonth: return day == length
        case .weekdayNearest(let target):
            // The weekday nearest the target day, within its month.
            guard target <= length else { return false }
            var nearest = target
            switch CivilTime.weekday(year: year, month: month, day: target) {
            case 7: nearest = target > 1 ? target - 1 : target + 2
            case 1: nearest = target < length ? target + 1 : target - 2
            default: break
            }
            return day == nearest
        case .ofWeek(let set): return set.contains(weekday)
        case .lastInMonth(let target): return weekday == target && day + 7 > length
        case .nth(let target, let rank): return weekday == target && (day - 1) / 7 + 1 == rank
        }
    }

    /// Each wall time the expression names, in order, from `start`'s minute on, until `body`
    /// returns false.
    func forEachTime(from start: CivilTime, _ body: (CivilTime) -> Bool) {
        for year in years where year >= start.year {
            for month in months where year > start.year || month >= start.month {
                let sameMonth = year == start.year && month == start.month
                for day in (sameMonth ? start.day : 1)...CivilTime.days(inMonth: month, of: year)
                where matchesDay(year: year, month: month, day: day) {
                    let sameDay = sameMonth && day == start.day
                    for hour in hours where !sameDay || hour >= start.hour {
                        for minute in minutes where !(sameDay && hour == start.hour) || minute >= start.minute {
                            guard body(CivilTime(year: year, month: month, day: day, hour: hour, minute: minute)) else {
                                return
                            }
                        }
                    }
                }
            }
        }
    }
}
