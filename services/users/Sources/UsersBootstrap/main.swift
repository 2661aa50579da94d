import Users
import ServiceKit

ServiceBootstrap.run(UsersAPI.self)
