import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StoreContract

/// `GET /v3/integrations/3cx.xml`: a 3CX server-side CRM template (Admin → Integrations → CRM →
/// Server side; V18: Settings → CRM Integration) that looks callers up here.
///
/// The caller's number goes in the lookup's path (`Number Prefix="Plus"`: `+420…`, which a path
/// keeps as it is), the access token in `Authorization: Bearer` from the template's `ApiToken`
/// parameter (a `lookup` token), and each contact of the answer's `contacts` array becomes a 3CX
/// contact: FirstName, LastName, CompanyName (organization), Email, PhoneBusiness (phone1),
/// PhoneMobile (phone2), and ContactUrl, the answer's `url`: the caller's popup link, bound to the
/// template's token and living `popup.linkminutes` (no standing link token is put in the
/// template). The base URL is filled in from this node (`http.publicurl`, else the request's
/// `Host`); 3CX lets the admin change it.
enum ThreeCXTemplate {
    static func render(baseURL: String, organization: String) -> String {
        let x = MarkupText.escaped
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <Crm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" Country="CZ" Name="caller-lookup (\(x(organization)))" Version="1" SupportsEmojis="false">
              <Number Prefix="Plus" MaxLength="[MaxLength]" />
              <Connection MaxConcurrentRequests="4" />
              <Parameters>
                <Parameter Name="BaseUrl" Type="String" Parent="General Configuration" Editor="String" Title="caller-lookup URL:" Default="\(x(baseURL))" />
                <Parameter Name="ApiToken" Type="Password" Parent="General Configuration" Editor="String" Title="Access token (scope lookup):" Default="" />
              </Parameters>
              <Authentication Type="No" />
              <Scenarios>
                <Scenario Id="" Type="REST">
                  <Request SkipIf="" Url="[BaseUrl]/v3/contacts/lookup/[Number]" MessagePasses="0" RequestEncoding="UrlEncoded" RequestType="Get" ResponseType="Json">
                    <Headers>
                      <Value Key="Authorization" Passes="1" Type="String">Bearer [ApiToken]</Value>
                    </Headers>
                  </Request>
                  <Rules>
                    <Rule Type="Any">contacts.id</Rule>
                  </Rules>
                  <Variables>
                    <Variable Name="ContactID" Path="contacts.id"><Filter /></Variable>
                    <Variable Name="FirstName" Path="contacts.firstName"><Filter /></Variable>
                    <Variable Name="LastName" Path="contacts.lastName"><Filter /></Variable>
                    <Variable Name="CompanyName" Path="contacts.organization"><Filter /></Variable>
                    <Variable Name="Email" Path="contacts.email"><Filter /></Variable>
                    <Variable Name="PhoneBusiness" Path="contacts.phone1"><Filter /></Variable>
                    <Variable Name="PhoneMobile" Path="contacts.phone2"><Filter /></Variable>
                    <Variable Name="ContactUrl" Path="url"><Filter /></Variable>
                  </Variables>
                  <Outputs AllowEmpty="false">
                    <Output Type="ContactID" Passes="0" Value="[ContactID]" />
                    <Output Type="FirstName" Passes="0" Value="[FirstName]" />
                    <Output Type="LastName" Passes="0" Value="[LastName]" />
                    <Output Type="CompanyName" Passes="0" Value="[CompanyName]" />
                    <Output Type="Email" Passes="0" Value="[Email]" />
                    <Output Type="PhoneBusiness" Passes="0" Value="[PhoneBusiness]" />
                    <Output Type="PhoneMobile" Passes="0" Value="[PhoneMobile]" />
                    <Output Type="ContactUrl" Passes="0" Value="[ContactUrl]" />
                    <Output Type="EntityId" Passes="0" Value="[ContactID]" />
                    <Output Type="EntityType" Passes="0" Value="Contacts" />
                  </Outputs>
                </Scenario>
              </Scenarios>
            </Crm>

            """
    }
}

extension Handlers {
    /// `GET /v3/integrations/3cx.xml`, as an attachment.
    @Sendable func threeCXTemplate(_ request: Request, context: CallerRequestContext) async throws -> Response {
        let organization = try organization(context)
        let base = baseURL(request)
        let xml = ThreeCXTemplate.render(baseURL: base, organization: organization.name)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/xml; charset=utf-8", .contentDisposition: "attachment; filename=\"caller-lookup-3cx.xml\"",
                .cacheControl: "no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: xml)))
    }
}
