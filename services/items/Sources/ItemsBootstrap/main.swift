import DynamoDB
import HTTPAPI
import Items
import LambdaRuntime
import ServiceKit

LambdaRuntime.run { logger in
    let environment = ProcessEnvironment.current()
    let db = try DynamoDBClient()
    let api = ItemsAPI(
        db: db, table: ServiceDeclaration.tableName("items", environment: environment),
        cursorSecret: try await ServiceSecrets.value(of: "CURSOR_SECRET", environment: environment))
    return HTTPLambdaHandler(router: api.router)
}
