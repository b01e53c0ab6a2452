// Placeholder until the supervisor lands.
namespace fnguard::supervisor {}
