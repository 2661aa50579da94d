import DynamoDB
import HTTPAPI
import LambdaRuntime
import ServiceKit
import Users

LambdaRuntime.run { logger in
    let environment = ProcessEnvironment.current()
    // Created once per process: its connections are reused by every invocation.
    let db = try DynamoDBClient()
    let api = UsersAPI(
        db: db, table: ServiceDeclaration.tableName("users", environment: environment),
        cursorSecret: try await ServiceSecrets.value(of: "CURSOR_SECRET", environment: environment))
    return HTTPLambdaHandler(router: api.router)
}
