import PhoneNumbers
import SQLiteEngine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StoreContract
import TestSupport
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import CallerService

/// Issue 17, part 6: the 3CX template, played as 3CX plays it — its parameters filled in, its
/// request sent, its variables read from the JSON answer by path, its outputs built.
@Suite struct ThreeCXTemplateTests {
    /// The elements of the template: name and attributes, in document order; text of `<Value>`.
    final class Elements: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String], text: String)] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes, ""))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !elements.isEmpty else { return }
            elements[elements.count - 1].text += string.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// `contacts.firstName` of a JSON answer: the first element's value, as 3CX walks arrays.
    static func value(at path: String, in json: Any) -> String? {
        var current: Any? = json
        for key in path.split(separator: ".") {
            if let array = current as? [Any] { current = array.first }
            current = (current as? [String: Any])?[String(key)]
        }
        if let array = current as? [Any] { current = array.first }
        if let number = current as? NSNumber { return number.stringValue }
        return current as? String
    }

    static func fill(_ text: String, _ values: [String: String]) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: "[\($1.key)]", with: $1.value) }
    }

    @Test func threeCXFindsTheCallerAndItsPopup() async throws {
        let fixture = try ServiceFixture()
        let ipex = try #require(try fixture.store.organization(named: "IPEX"))
        _ = try fixture.store.importContacts(csv: Fixtures.maximalCSV, organizationID: ipex.id, validator: .init())
        let (_, token) = try fixture.store.createToken(organizationID: ipex.id, scope: .lookup, label: "3CX")
        try await buildApplication(configuration: ServiceConfiguration(), store: fixture.store).test(.router) { client in
            let novak: HTTPFields = [.authorization: ServiceFixture.basic("novak", "hesloNovak")]
            let response = try await client.execute(uri: "/v3/integrations/3cx.xml", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentDisposition]?.contains("attachment") == true)
            let xml = String(buffer: response.body)
            #expect(!xml.contains(token), "the access token is the admin's to paste, never in the file")
            let elements = Elements()
            let parser = XMLParser(data: Data(xml.utf8))
            parser.delegate = elements
            #expect(parser.parse(), "the template is well-formed XML")
            let all = elements.elements
            #expect(all.first?.name == "Crm")
            #expect(all.first { $0.name == "Number" }?.attributes["Prefix"] == "Plus")
            // The admin's parameters: the defaults, and the token pasted.
            var parameters: [String: String] = [:]
            for parameter in all where parameter.name == "Parameter" {
                parameters[parameter.attributes["Name"] ?? ""] = parameter.attributes["Default"] ?? ""
            }
            #expect(parameters["BaseUrl"] == "http://localhost")
            #expect(parameters["PopupToken"] == nil, "no standing popup link token in a file handed to a lookup credential")
            #expect(!xml.contains(try fixture.store.popupToken(organizationID: ipex.id)))
            parameters["ApiToken"] = token
            parameters["Number"] = "+420222333444"
            parameters["BaseUrl"] = ""  // the test client takes paths
            // The request, as 3CX sends it.
            let request = try #require(all.first { $0.name == "Request" })
            #expect(request.attributes["RequestType"] == "Get" && request.attributes["ResponseType"] == "Json")
            let url = Self.fill(try #require(request.attributes["Url"]), parameters)
            let header = try #require(all.first { $0.name == "Value" && $0.attributes["Key"] == "Authorization" })
            let lookup = try await client.execute(uri: url, method: .get, headers: [.authorization: Self.fill(header.text, parameters)])
            #expect(lookup.status == .ok, "\(url)")
            let json = try JSONSerialization.jsonObject(with: Data(String(buffer: lookup.body).utf8))
            // The rule finds a contact; the variables are read by path.
            let rule = try #require(all.first { $0.name == "Rule" })
            #expect(Self.value(at: rule.text, in: json) != nil)
            var variables = parameters
            for variable in all where variable.name == "Variable" {
                variables[variable.attributes["Name"] ?? ""] = Self.value(at: variable.attributes["Path"] ?? "", in: json) ?? ""
            }
            var outputs: [String: String] = [:]
            for output in all where output.name == "Output" {
                outputs[output.attributes["Type"] ?? ""] = Self.fill(output.attributes["Value"] ?? "", variables)
            }
            #expect(outputs["FirstName"] == "Jan" && outputs["LastName"] == "Novák")
            #expect(outputs["CompanyName"] == "IPEX a.s.")
            #expect(outputs["Email"] == "jan@novak.com")
            #expect(outputs["PhoneBusiness"] == "+420222333444", "3CX keeps a contact whose phone is the number it searched")
            #expect(outputs["PhoneMobile"]?.hasPrefix("+") == true)
            #expect(outputs["EntityType"] == "Contacts" && outputs["EntityId"] == outputs["ContactID"])
            // The ContactUrl opens the caller's popup without a login.
            let popup = try #require(outputs["ContactUrl"])
            let page = try await client.execute(uri: popup, method: .get)
            #expect(page.status == .ok && String(buffer: page.body).contains("Novák"), "\(popup)")
            // …bound to the template's token: revoked, the link ends with it.
            #expect(popup.contains("token=v2."), "\(popup)")
            let tokenID = try #require(try fixture.store.tokens(organizationID: ipex.id).first { $0.revoked == nil }?.id)
            #expect(try await client.execute(uri: "/v3/tokens/\(tokenID)", method: .delete, headers: novak).status == .ok)
            #expect(try await client.execute(uri: popup, method: .get).status == .forbidden)
            // A user can download it too; a wrong token cannot.
            #expect(try await client.execute(uri: "/v3/integrations/3cx.xml", method: .get, headers: novak).status == .ok)
            #expect(try await client.execute(uri: "/v3/integrations/3cx.xml?token=clk_x", method: .get).status == .unauthorized)
        }
    }
}
