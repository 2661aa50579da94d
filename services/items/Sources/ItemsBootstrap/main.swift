import Items
import ServiceKit

ServiceBootstrap.run(ItemsAPI.self)
