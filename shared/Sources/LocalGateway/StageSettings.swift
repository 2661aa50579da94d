import HTTPAPI
import JSONCoding
import LoopbackHTTP

/// What the deployed stage does besides routing, read from the files Terraform reads: CORS and
/// the access log format from `environments/<env>/terraform.tfvars.json`, the log formats from
/// `modules/infrastructure/access-log-formats.json`.
public struct StageSettings: Sendable {
    public struct CORS: Sendable {
        public var allowOrigins: [String]
        public var allowMethods: [String]
        public var allowHeaders: [String]
        public var exposeHeaders: [String]
        public var allowCredentials: Bool
        public var maxAge: Int

        public init(
            allowOrigins: [String], allowMethods: [String], allowHeaders: [String], exposeHeaders: [String],
            allowCredentials: Bool, maxAge: Int
        ) {
            self.allowOrigins = allowOrigins
            self.allowMethods = allowMethods
            self.allowHeaders = allowHeaders
            self.exposeHeaders = exposeHeaders
            self.allowCredentials = allowCredentials
            self.maxAge = maxAge
        }

        func allows(origin: String) -> Bool { allowOrigins.contains("*") || allowOrigins.contains(origin) }
    }

    public var cors: CORS?
    /// The JWT authorizer's issuer and audiences (`jwt_authorizer`).
    public var jwtIssuer: String?
    public var jwtAudiences: [String] = []
    /// An access log template with `$context.…` variables, as the stage's `access_log_settings`.
    public var accessLogFormat: String?
    /// `api_type`: "http" or "rest".
    public var apiType = "http"
    /// `rest.authorizer_ttl_seconds`: how long the REST API caches an authorizer's answer.
    public var authorizerTTLSeconds = 300

    public init(cors: CORS? = nil, accessLogFormat: String? = nil) {
        self.cors = cors
        self.accessLogFormat = accessLogFormat
    }

    public struct SettingsError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(root: String, environment: String) throws -> StageSettings {
        let path = "\(root)/environments/\(environment)/terraform.tfvars.json"
        guard let variables = try? JSONValue.parse(try FileBytes.read(path)) else {
            throw SettingsError(description: "cannot read \(path): name an environment under environments/")
        }
        var settings = StageSettings()
        if let cors = variables["cors"], cors.objectValue != nil {
            func strings(_ key: String) -> [String] { cors[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            settings.cors = CORS(
                allowOrigins: strings("allow_origins"), allowMethods: strings("allow_methods").map { $0.uppercased() },
                allowHeaders: strings("allow_headers").map { $0.lowercased() },
                exposeHeaders: strings("expose_headers").map { $0.lowercased() },
                allowCredentials: cors["allow_credentials"]?.boolValue ?? false,
                maxAge: cors["max_age"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0)
        }
        settings.apiType = variables["api_type"]?.stringValue ?? "http"
        if case .number(let ttl)? = variables["rest"]?["authorizer_ttl_seconds"], let seconds = Int(ttl) {
            settings.authorizerTTLSeconds = seconds
        }
        settings.jwtIssuer = variables["jwt_authorizer"]?["issuer"]?.stringValue
        settings.jwtAudiences = variables["jwt_authorizer"]?["audience"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let format = variables["access_log"]?["format"]?.stringValue ?? "json"
        if format == "custom" {
            settings.accessLogFormat = variables["access_log"]?["custom_format"]?.stringValue
        } else {
            let formats = try JSONValue.parse(
                try FileBytes.read("\(root)/modules/infrastructure/access-log-formats.json"))
            settings.accessLogFormat = formats[format]?.stringValue
        }
        return settings
    }

    // MARK: CORS as API Gateway applies it

    /// API Gateway answers a preflight itself: 204, with the CORS headers when the origin is allowed.
    func preflight(_ request: ServerRequest) -> ServerResponse? {
        guard let cors, request.method == "OPTIONS", let origin = request.header("origin"),
            let method = request.header("access-control-request-method")
        else { return nil }
        var headers: [(name: String, value: String)] = []
        if cors.allows(origin: origin),
            cors.allowMethods.contains(method.uppercased()) || cors.allowMethods.contains("*")
        {
            headers.append(("access-control-allow-origin", allowedOrigin(origin, cors)))
            headers.append(("access-control-allow-methods", cors.allowMethods.joined(separator: ",")))
            if !cors.allowHeaders.isEmpty {
                headers.append(("access-control-allow-headers", cors.allowHeaders.joined(separator: ",")))
            }
            if cors.maxAge > 0 { headers.append(("access-control-max-age", String(cors.maxAge))) }
            if cors.allowCredentials { headers.append(("access-control-allow-credentials", "true")) }
        }
        return ServerResponse(status: 204, headers: headers)
    }

    /// On other responses the stage's CORS headers replace whatever the integration set.
    func applyCORS(to response: inout ServerResponse, origin: String?) {
        guard let cors else { return }
        response.headers.removeAll { $0.name.lowercased().hasPrefix("access-control-") }
        guard let origin, cors.allows(origin: origin) else { return }
        response.headers.append(("access-control-allow-origin", allowedOrigin(origin, cors)))
        if !cors.exposeHeaders.isEmpty {
            response.headers.append(("access-control-expose-headers", cors.exposeHeaders.joined(separator: ",")))
        }
        if cors.allowCredentials { response.headers.append(("access-control-allow-credentials", "true")) }
    }

    func allowedOrigin(_ origin: String, _ cors: CORS) -> String {
        cors.allowOrigins.contains("*") && !cors.allowCredentials ? "*" : origin
    }

    // MARK: Access logs

    /// One access log line: the template's `$context` variables replaced, unknown ones as `-`.
    /// Only the variables below exist, so headers such as Authorization and Cookie cannot appear.
    func accessLogLine(_ variables: [String: String]) -> String? {
        guard let template = accessLogFormat else { return nil }
        // In a JSON template the values sit inside quotes.
        let json = template.first == "{"
        var line = ""
        var rest = Substring(template)
        while let marker = rest.firstRange(of: "$context.") {
            line += rest[..<marker.lowerBound]
            let name = rest[marker.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "." }
            let trimmed = name.hasSuffix(".") ? name.dropLast() : name
            let value = variables[String(trimmed)] ?? "-"
            line += json ? String(JSONValue.string(value).jsonString.dropFirst().dropLast()) : value
            rest = rest[marker.upperBound...].dropFirst(trimmed.count)
        }
        return line + rest
    }
}
