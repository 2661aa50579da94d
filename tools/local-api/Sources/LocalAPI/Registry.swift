import HTTPAPI
import Items
import ServiceKit
import Users

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalAPI {
    /// Every service the local gateway serves, contract replay replays and the tests build: one
    /// line per service (`make new` adds it). Checked against services/*/service.json at start.
    public static let registered: [any HTTPService.Type] = [
        UsersAPI.self,
        ItemsAPI.self,
    ]

    /// One line naming a service that has a service.json but is not registered, or the reverse.
    public static func registrationProblem(root: String) -> String? {
        let declared = Set(declaredServices(root: root))
        let known = Set(serviceNames)
        if let missing = declared.subtracting(known).sorted().first {
            return
                "services/\(missing)/service.json exists but \(missing) is not registered: add its type to tools/local-api/Sources/LocalAPI/Registry.swift (make new SERVICE=\(missing) does)"
        }
        if let extra = known.subtracting(declared).sorted().first {
            return
                "\(extra) is registered in tools/local-api/Sources/LocalAPI/Registry.swift but services/\(extra)/service.json does not exist"
        }
        return nil
    }

    /// The directories under services/ that hold a service.json.
    public static func declaredServices(root: String) -> [String] {
        guard let directory = opendir("\(root)/services") else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), access("\(root)/services/\(name)/service.json", F_OK) == 0 else { continue }
            names.append(name)
        }
        return names.sorted()
    }
}
