// The templates (emails/) as the rest of src sees them: mail/ is their only importer.
export { renderEmail, type MfaChange, type TemplateData, type TemplateName } from "../../emails/index.ts";
