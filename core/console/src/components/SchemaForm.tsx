import { Form, Input, InputNumber, Select, Switch, Typography } from 'antd';
import type { FormInstance } from 'antd';
import { useT } from '../i18n';
import type { JsonSchema } from '../types';

export const SECRET_MASK = '********';

export function isSecret(schema: JsonSchema): boolean {
  return schema['x-secret'] === true || schema.writeOnly === true;
}

/**
 * A form rendered from a plugin's JSON Schema (object of scalar/enum/array-of-string fields).
 * Secret fields (`x-secret`/`writeOnly`) are write-only: never shown, left empty means "keep the
 * stored value", so the redacted `********` the API returns is never sent back as a value.
 */
export function SchemaForm({ schema, form, existing }: { schema: JsonSchema; form: FormInstance; existing?: Record<string, unknown> }) {
  const t = useT();
  const properties = Object.entries(schema.properties ?? {});
  return (
    <Form form={form} layout="vertical" data-testid="schema-form" initialValues={initialValues(schema, existing)}>
      {properties.map(([key, property]) => {
        const required = (schema.required ?? []).includes(key);
        const secret = isSecret(property);
        const label = (
          <span>
            {property.title ?? key} {secret && <Typography.Text type="secondary">({t('plugin.secret')})</Typography.Text>}
          </span>
        );
        const rules = [
          { required: required && !(secret && existing), message: t('common.required') },
          ...(property.pattern ? [{ pattern: new RegExp(property.pattern), message: t('plugin.pattern', { pattern: property.pattern }) }] : []),
          ...(property.minLength ? [{ min: property.minLength, message: t('plugin.minLength', { n: property.minLength }) }] : []),
        ];
        const type = Array.isArray(property.type) ? property.type.find((value) => value !== 'null') : property.type;
        let input;
        if (property.enum) input = <Select options={property.enum.map((value) => ({ value: value as string, label: String(value) }))} />;
        else if (type === 'boolean') input = <Switch />;
        else if (type === 'integer' || type === 'number') input = <InputNumber min={property.minimum} max={property.maximum} style={{ width: '100%' }} />;
        else if (type === 'array') input = <Select mode="tags" />;
        else if (secret)
          input = <Input.Password autoComplete="new-password" placeholder={existing ? t('plugin.secretKeep') : ''} data-testid={`field-${key}`} />;
        else input = <Input data-testid={`field-${key}`} />;
        return (
          <Form.Item key={key} name={key} label={label} extra={property.description} rules={rules} valuePropName={type === 'boolean' ? 'checked' : 'value'}>
            {input}
          </Form.Item>
        );
      })}
    </Form>
  );
}

function initialValues(schema: JsonSchema, existing?: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (isSecret(property)) continue;
    if (existing && existing[key] !== undefined) values[key] = existing[key];
    else if (property.default !== undefined) values[key] = property.default;
  }
  return values;
}

/** The config to send: empty secrets are left out on updates (kept server-side). */
export function configFromValues(schema: JsonSchema, values: Record<string, unknown>, existing?: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const value = values[key];
    if (value === undefined || value === null || value === '') {
      if (isSecret(property) && existing && existing[key] !== undefined) config[key] = existing[key];
      continue;
    }
    config[key] = value;
  }
  return config;
}
