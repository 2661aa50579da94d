import ServiceKit
import Users

ServiceBootstrap.run(UsersAPI.self)
