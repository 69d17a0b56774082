import { theme } from 'antd';
import { Text } from './Text';
import { useState, type CSSProperties, type ReactNode } from 'react';

/**
 * A light card (border, radius, padding from the antd theme) for the first pages: antd's Card
 * brings Tabs, Menu and Skeleton along (~30 KB gzipped), which the login form and the app list
 * do not need (see scripts/bundle-size.mjs).
 */
export default function Panel({ children, title, description, hoverable, onClick, style, ...rest }: {
  children?: ReactNode;
  title?: ReactNode;
  description?: ReactNode;
  hoverable?: boolean;
  onClick?: () => void;
  style?: CSSProperties;
  'data-testid'?: string;
}) {
  const { token } = theme.useToken();
  const [hover, setHover] = useState(false);
  return (
    <div
      {...rest}
      role={onClick ? 'link' : undefined}
      tabIndex={onClick ? 0 : undefined}
      onClick={onClick}
      onKeyDown={onClick ? (e) => { if (e.key === 'Enter') onClick(); } : undefined}
      onMouseEnter={hoverable ? () => setHover(true) : undefined}
      onMouseLeave={hoverable ? () => setHover(false) : undefined}
      style={{
        background: token.colorBgContainer,
        border: `1px solid ${token.colorBorderSecondary}`,
        borderRadius: token.borderRadiusLG,
        padding: token.paddingLG,
        cursor: onClick ? 'pointer' : undefined,
        boxShadow: hover ? token.boxShadowTertiary : undefined,
        transition: `box-shadow ${token.motionDurationMid}`,
        ...style,
      }}
    >
      {title !== undefined && <Text strong style={{ display: 'block', fontSize: token.fontSizeLG, marginBottom: description ? 8 : 0 }}>{title}</Text>}
      {description}
      {children}
    </div>
  );
}
