// Light text elements for the first pages (app frame, app list, notifications): antd's
// Typography brings copy/edit/ellipsis machinery (~24 KB gzipped) these pages do not use.
import { theme } from 'antd';
import type { CSSProperties, HTMLAttributes, ReactNode } from 'react';

interface TextProps extends Omit<HTMLAttributes<HTMLElement>, 'style'> {
  type?: 'secondary' | 'danger';
  strong?: boolean;
  code?: boolean;
  /** Clamp to this many lines (a block element). */
  lines?: number;
  style?: CSSProperties;
  children?: ReactNode;
}

/** A span (or, with lines, a clamped block) in the theme's text colours. */
export function Text({ type, strong, code, lines, style, children, ...rest }: TextProps) {
  const { token } = theme.useToken();
  const s: CSSProperties = {
    color: type === 'secondary' ? token.colorTextSecondary : type === 'danger' ? token.colorError : undefined,
    fontWeight: strong ? token.fontWeightStrong : undefined,
    ...(code ? { fontFamily: token.fontFamilyCode, background: token.colorFillQuaternary, border: `1px solid ${token.colorBorderSecondary}`, borderRadius: 3, padding: '0.1em 0.4em', fontSize: '85%' } : {}),
    ...(lines ? { display: '-webkit-box', WebkitLineClamp: lines, WebkitBoxOrient: 'vertical', overflow: 'hidden' } : {}),
    ...style,
  };
  return lines ? <div style={s} {...rest}>{children}</div> : <span style={s} {...rest}>{children}</span>;
}

/** A page title (h3 size) in the theme's heading colour. */
export function Title({ children, style, ...rest }: { children?: ReactNode; style?: CSSProperties } & HTMLAttributes<HTMLHeadingElement>) {
  const { token } = theme.useToken();
  return <h3 style={{ margin: 0, fontSize: token.fontSizeHeading3, lineHeight: token.lineHeightHeading3, fontWeight: token.fontWeightStrong, color: token.colorTextHeading, ...style }} {...rest}>{children}</h3>;
}
