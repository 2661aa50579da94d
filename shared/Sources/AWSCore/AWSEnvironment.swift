import Platform

#if canImport(Glibc)
    import Glibc
#endif

/// Where a client's credentials, region and endpoint come from: Lambda's environment first, then
/// `AWS_PROFILE` in the shared credentials and config files for local use.
public struct AWSEnvironment: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var variables: [String: String]

    public struct ConfigurationError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(credentials: AWSCredentials, region: String, variables: [String: String] = [:]) {
        self.credentials = credentials
        self.region = region
        self.variables = variables
    }

    public static func load(_ variables: [String: String] = ProcessEnvironment.current()) throws(ConfigurationError)
        -> AWSEnvironment
    {
        let profileName = variables["AWS_PROFILE"] ?? variables["AWS_DEFAULT_PROFILE"] ?? "default"
        let home = variables["HOME"] ?? "/root"
        let credentialsFile = parseINI(variables["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials")
        let configFile = parseINI(variables["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config")
        let profile = (credentialsFile[profileName] ?? [:]).merging(
            configFile[profileName == "default" ? "default" : "profile \(profileName)"] ?? [:]
        ) { a, _ in a }

        let credentials: AWSCredentials
        if let key = variables["AWS_ACCESS_KEY_ID"], let secret = variables["AWS_SECRET_ACCESS_KEY"] {
            credentials = AWSCredentials(
                accessKeyID: key, secretAccessKey: secret, sessionToken: variables["AWS_SESSION_TOKEN"])
        } else if let key = profile["aws_access_key_id"], let secret = profile["aws_secret_access_key"] {
            credentials = AWSCredentials(
                accessKeyID: key, secretAccessKey: secret, sessionToken: profile["aws_session_token"])
        } else {
            throw ConfigurationError(
                description:
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws/credentials"
            )
        }
        guard let region = variables["AWS_REGION"] ?? variables["AWS_DEFAULT_REGION"] ?? profile["region"] else {
            throw ConfigurationError(
                description: "no AWS region: set AWS_REGION (Lambda sets it) or region in your profile")
        }
        return AWSEnvironment(credentials: credentials, region: region, variables: variables)
    }

    /// The endpoint for a service: `AWS_ENDPOINT_URL_<SERVICE_ID>`, then `AWS_ENDPOINT_URL`, then
    /// AWS's. `serviceID` is the SDKs' variable suffix where it differs from the host prefix
    /// (Secrets Manager: `secretsmanager` host, `SECRETS_MANAGER` variable).
    public func endpoint(service: String, serviceID: String? = nil) -> String {
        variables["AWS_ENDPOINT_URL_\(serviceID ?? service.uppercased())"] ?? variables["AWS_ENDPOINT_URL"]
            ?? "https://\(service).\(region).amazonaws.com"
    }

    /// `[section]` → key → value.
    static func parseINI(_ path: String) -> [String: [String: String]] {
        guard let file = fopen(path, "r") else { return [:] }
        defer { fclose(file) }
        var sections: [String: [String: String]] = [:]
        var current = ""
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line).trimmingCharacters()
            if text.isEmpty || text.hasPrefix("#") || text.hasPrefix(";") { continue }
            if text.hasPrefix("["), text.hasSuffix("]") {
                current = String(text.dropFirst().dropLast()).trimmingCharacters()
            } else if let eq = text.firstIndex(of: "=") {
                sections[current, default: [:]][String(text[..<eq]).trimmingCharacters()] = String(
                    text[text.index(after: eq)...]
                ).trimmingCharacters()
            }
        }
        return sections
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
