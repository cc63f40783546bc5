/// Masks a holder's name for the cashier: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明.
///
/// The cashier compares it with the physical card; the full name never leaves the bureau's database.
public enum NameMask {
    public static func mask(_ name: String) -> String {
        let characters = Array(name.trimmingWhitespace())
        switch characters.count {
        case 0: return ""
        case 1: return "*"
        case 2: return "\(characters[0])*"
        default:
            return "\(characters[0])" + String(repeating: "*", count: characters.count - 2) + "\(characters[characters.count - 1])"
        }
    }
}
