// The REST API's Lambda REQUEST authorizer (modules/infrastructure deploys it for api_type "rest"
// when routes declare "authorization": "JWT"). Init fetches the issuer's JWKS over HTTPS.
import LambdaRuntime
import Platform
import RESTAuthorizer

LambdaRuntime.run { logger in
    try await RequestAuthorizer.start(environment: ProcessEnvironment.current(), logger: logger)
}
