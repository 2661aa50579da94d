import JSONCoding

extension HTTPRequest {
    /// Whether the declared content type is JSON (`application/json` or any `+json` type).
    public var hasJSONContentType: Bool {
        guard let type = headers["content-type"]?.split(separator: ";").first?.trimmingSpaces.lowercased() else {
            return false
        }
        return type == "application/json" || type.hasSuffix("+json")
    }

    /// The body as JSON, or a 415/400 problem that says what is wrong.
    public func jsonBody() throws(HTTPProblem) -> JSONValue {
        guard hasJSONContentType else {
            throw HTTPProblem(
                status: 415,
                detail: headers["content-type"].map { "expected Content-Type application/json, got \($0)" }
                    ?? "send the body as JSON with Content-Type: application/json")
        }
        guard !body.isEmpty else { throw .badRequest("the request body is empty; send a JSON document") }
        do { return try JSONValue.parse(body) } catch {
            throw .badRequest("the body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }

    /// Decodes the JSON body into `T`. Wrong types, missing fields and (when `strict`) fields `T`
    /// does not know become a 400 problem naming each field by JSON Pointer.
    public func decode<T: Decodable>(_ type: T.Type, strict: Bool = true) throws(HTTPProblem) -> T {
        let json = try jsonBody()
        do {
            return strict ? try JSON.decodeStrict(type, from: json) : try JSON.decode(type, from: json)
        } catch let error as UnknownFieldsError {
            throw .validation(error.paths.map { .init(pointer: $0, detail: "unknown field") })
        } catch let error as DecodingError {
            throw .validation([HTTPProblem.FieldError(error)])
        } catch let problem as HTTPProblem {
            throw problem
        } catch {
            throw .badRequest("the body could not be read: \(error)")
        }
    }
}

extension HTTPProblem.FieldError {
    /// Names the field a `DecodingError` is about, in words a client developer understands.
    public init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(_, let context):
            self.init(pointer: JSONPointer.make(context.codingPath), detail: context.debugDescription)
        case .valueNotFound(_, let context):
            self.init(pointer: JSONPointer.make(context.codingPath), detail: "must not be null")
        case .keyNotFound(let key, let context):
            let path =
                context.codingPath.last?.stringValue == key.stringValue
                ? context.codingPath : context.codingPath + [key]
            self.init(pointer: JSONPointer.make(path), detail: "is required")
        case .dataCorrupted(let context):
            self.init(pointer: JSONPointer.make(context.codingPath), detail: context.debugDescription)
        @unknown default:
            self.init(pointer: "", detail: "\(error)")
        }
    }
}
